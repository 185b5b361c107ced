/** The budget and evaluation both sides of the parity bench use (bench/parity.ts). */
export interface ParitySettings {
  epochs: number;
  trainRows: number;
  batchSize: number;
  learningRate: number;
  /** Test rows (the first N of the MNIST test split), binarised once by vaekit's static draw with seed 0. */
  testRows: number;
  /** K of log p̂(x) = IWAE_K. */
  samples: number;
  /** Single-sample ELBO draws averaged per test row. */
  elboSamples: number;
}

export type Side = 'vaekit' | 'pytorch';
export type Init = 'glorot' | 'pytorch';

/** One trained model of one side: its test bounds (nats per data point) and costs. */
export interface ParityRun {
  side: Side;
  init: Init;
  seed: number;
  /** Mean test ELBO over the test rows. */
  elbo: number;
  /** Mean log p̂(x) with K = settings.samples (= IWAE_K). */
  logLikelihood: number;
  trainSeconds: number;
  evalSeconds: number;
  /** CPU seconds of the run (process CPU time). */
  cpuSeconds: number;
  /** Per-row ELBO and log p̂(x), in test-row order. */
  perRow?: { elbo: number[]; logLikelihood: number[] };
  settings: ParitySettings;
}
