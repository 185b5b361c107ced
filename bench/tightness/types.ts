/** Messages and records shared by the tightness benchmark's parent process and its workers. */
import type { JobStage } from './progress.js';
import type { ImportanceDiagnostics } from '../../src/eval/importance-diagnostics.js';
import type { Estimate } from '../../src/eval/stats.js';

/** One plugin combination: a name for the tables and a `model` config section. */
export interface Combo {
  name: string;
  model: {
    latentDim: number;
    dataDim?: number;
    encoder: { type: string; [k: string]: unknown };
    prior?: { type: string; [k: string]: unknown };
    likelihood: { type: string; [k: string]: unknown };
  };
  /** Its own training objective (`--objectives`); the settings' one otherwise. */
  objective?: { type: string; samples: number; gradient?: string };
}

/** The budget and evaluation settings every job of a run shares (printed with every table). */
export interface Settings {
  data: 'mnist' | 'fashion-mnist';
  /** Training rows: the first N of the training split, binarised dynamically (a fresh draw per batch). */
  trainRows: number;
  /** Evaluation rows: the first N of the test split, binarised once (static) with `testBinarizeSeed`. */
  testRows: number;
  testBinarizeSeed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /**
   * A piecewise-constant learning-rate schedule: phase i trains `epochs` epochs at `learningRate`
   * (their epochs sum to `epochs`; `learningRate` above is the first phase's). Absent: one phase.
   */
  schedule?: { epochs: number; learningRate: number }[];
  objective: { type: string; samples: number; gradient?: string };
  /** S, samples per row of the test ELBO. */
  elboSamples: number;
  /** The K of the table's IWAE_K column. */
  k: number;
  /** Every K evaluated (JSON), ascending, including `k`. */
  iwaeSamples: number[];
  /** K of log p̂(x). */
  llSamples: number;
  /** Rows per evaluation batch and samples per network call. */
  evalBatchSize: number;
  chunk: number;
  /** Amortisation gap: first N test rows, Adam steps on λ, learning rate, samples per step, scoring samples. */
  amortRows: number;
  amortSteps: number;
  amortLearningRate: number;
  amortSamples: number;
  amortEvalSamples: number;
  backend: string;
}

export type JobMode = 'co-trained' | 'frozen';

export interface Job {
  id: string;
  mode: JobMode;
  combo: Combo;
  seed: number;
  settings: Settings;
  /** Module paths of user plugins (each default-exports a ContainerModule, or exports `plugins`). */
  plugins: string[];
  /** Write the trained decoder and prior here (the co-trained baseline of a frozen comparison). */
  saveDecoderTo?: string;
  /** Frozen mode: a decoder+prior file written by `saveDecoderTo`, or a saved model directory. */
  frozenFrom?: { kind: 'parts' | 'saved-model'; path: string };
}

export interface AmortizationResult {
  rows: number;
  encoderElbo: Estimate;
  optimizedElbo: Estimate;
  amortizationGap: Estimate;
  improvedRows: number;
}

export interface JobResult {
  id: string;
  mode: JobMode;
  name: string;
  seed: number;
  encoderType: string;
  parameters: { encoder: number; decoder: number; prior: number; total: number };
  epochs: number;
  secondsPerEpoch: number;
  trainSeconds: number;
  evalSeconds: number;
  /** CPU seconds the worker process spent on the job (training and evaluation; process.cpuUsage). */
  cpuSeconds?: number;
  /** Training objective over the last epoch. */
  finalTrainBound: number;
  klExact: boolean;
  elbo: Estimate;
  iwae: { samples: number; mean: number; stdErr: number }[];
  /** This model's own log p̂(x) (its encoder as proposal). */
  logLikelihood: Estimate;
  /** Own log p̂(x) − ELBO. */
  gap: Estimate;
  /** ESS and PSIS k̂ of the weights of the own log p̂(x), summarised over test rows. */
  diagnostics?: ImportanceDiagnostics;
  amortization: AmortizationResult;
  /** Per test row (used for the frozen table's shared log p̂; not written to the JSON). */
  perRow: { elbo: number[]; logLikelihood: number[] };
  /** Frozen mode: the decoder+prior were byte-identical after training. */
  frozenUnchanged?: boolean;
}

export type ToWorker = { type: 'job'; job: Job } | { type: 'exit' };

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'status'; id: string; text: string; stage?: JobStage }
  | { type: 'result'; result: JobResult }
  | { type: 'error'; id: string; message: string };
