/** Evaluation: streamed log-likelihood, bound report, amortisation gap, exact PPCA and EM. */
export { createProgress, type Progress, type ProgressOptions } from './progress.js';
export { meanStdErr, median, type Estimate } from './stats.js';
export { rowBatches, rowCount, type EvalData, type RowBatch } from './rows.js';
export {
  estimateLogLikelihood,
  streamLogWeights,
  LogMeanExpAccumulator,
  type LogLikelihoodOptions,
  type LogLikelihoodEstimate,
} from './log-likelihood.js';
export { batchSeed, evaluateBatch, samplesPerRow, type EvalTask, type BatchResult } from './batch-evaluation.js';
export { evaluateRows, autoWorkers, type RowSplitOptions, type RowSplitResult } from './row-split.js';
export {
  boundReport,
  formatBoundReport,
  formatBoundReports,
  LOG_P_HAT_NOTE,
  type BoundReport,
  type BoundReportOptions,
  type IwaeEstimate,
} from './bound-report.js';
export {
  effectiveSampleSize,
  fitGeneralizedPareto,
  paretoKHat,
  paretoTailLength,
  summarizeDiagnostics,
  formatDiagnostics,
  ImportanceDiagnosticsAccumulator,
  TopLogWeights,
  PARETO_K_THRESHOLD,
  type GeneralizedParetoFit,
  type ImportanceDiagnostics,
} from './importance-diagnostics.js';
export {
  amortizationGap,
  formatAmortizationGap,
  type AmortizationGapOptions,
  type AmortizationGapReport,
} from './amortization-gap.js';
export {
  fitPpca,
  fitPpcaEm,
  sampleMoments,
  averageLogLikelihood,
  decoderModel,
  exactVaeReport,
  type PpcaFit,
  type PpcaEmFit,
  type PpcaEmOptions,
  type RealRows,
  type ExactVaeReport,
  type ExactVaeReportOptions,
} from './ppca.js';
export { posteriorGrid, type PosteriorGrid, type PosteriorGridOptions, type QDensitySource } from './posterior-grid.js';
