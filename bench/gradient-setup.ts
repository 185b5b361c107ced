/**
 * What the two gradient benches (`gradient-variance.ts`: reparameterised vs score function;
 * `gradient-snr.ts`: SNR by estimator and K) share: the model they measure — a Gaussian encoder
 * and Bernoulli decoder with tanh MLPs, briefly trained with the ELBO on MNIST rows — the fixed,
 * seeded batch the gradients are taken on, and per-parameter running moments over draws.
 */
import { createVae, loadMnist, tf, train } from '../plugins/index.js';
import type { Dataset, Vae } from '../src/index.js';
import { rowBatches } from '../src/eval/rows.js';

export interface GradientModelSettings {
  /** MNIST training rows for the brief training. */
  rows: number;
  /** ELBO epochs before measuring (0: untrained). */
  epochs: number;
  /** Rows of the fixed gradient batch (MNIST test rows, statically binarised with `seed`). */
  batch: number;
  latentDim: number;
  hidden: number[];
  seed: number;
}

export interface GradientModel {
  vae: Vae;
  /** The fixed batch `[batch, P]` (the caller disposes it, and `vae`). */
  x: tf.Tensor2D;
  /** The last epoch's training ELBO (null when untrained). */
  trainElbo: number | null;
  /** `mnist`, or the name of the data set passed in. */
  data: string;
}

/** Builds, and trains for `epochs` (batch 100, Adam 1e-3, seeded), the model both benches measure. */
export async function trainedGradientModel(s: GradientModelSettings, data?: { train: Dataset; batch: Dataset }): Promise<GradientModel> {
  const trainSet = data?.train ?? loadMnist({ split: 'train', limit: s.rows, binarize: 'dynamic' });
  const batchSet = data?.batch ?? loadMnist({ split: 'test', limit: s.batch, binarize: 'dynamic' });
  const vae = createVae(
    {
      latentDim: s.latentDim,
      dataDim: trainSet.dim,
      encoder: { type: 'gaussian', hidden: s.hidden, activation: 'tanh' },
      prior: { type: 'standard-normal' },
      likelihood: { type: 'bernoulli', hidden: [...s.hidden].reverse(), activation: 'tanh' },
    },
    { seed: s.seed },
  );
  const gen = rowBatches(batchSet, batchSet.rows, { binarizeSeed: s.seed });
  const x = tf.clone(gen.next().value!.x);
  gen.return(undefined);
  try {
    let trainElbo: number | null = null;
    if (s.epochs > 0) {
      const h = await train(vae, trainSet, { epochs: s.epochs, batchSize: 100, learningRate: 1e-3, seed: s.seed, progress: false, quiet: true });
      trainElbo = h.epochs[h.epochs.length - 1]!.trainBound;
    }
    return { vae, x, trainElbo, data: data ? trainSet.name : 'mnist' };
  } catch (e) {
    x.dispose();
    vae.dispose();
    throw e;
  }
}

/** Per-parameter sums of a gradient's draws and of their squares (float64), for means and unbiased variances. */
export class Moments {
  readonly sum: Float64Array;
  readonly sq: Float64Array;
  /** Draws added so far. */
  n = 0;
  constructor(size: number) {
    this.sum = new Float64Array(size);
    this.sq = new Float64Array(size);
  }
  /** Adds part of one draw, `g`, at parameter `offset` (call `n++` once per whole draw). */
  add(g: ArrayLike<number>, offset = 0): void {
    for (let i = 0; i < g.length; i++) {
      const v = g[i]!;
      this.sum[offset + i]! += v;
      this.sq[offset + i]! += v * v;
    }
  }
  mean(i: number): number {
    return this.sum[i]! / this.n;
  }
  /** The unbiased variance over the `n` draws (clamped at 0 against rounding). */
  variance(i: number): number {
    const m = this.sum[i]! / this.n;
    return Math.max(0, (this.sq[i]! - this.n * m * m) / (this.n - 1));
  }
}
