/**
 * A harness shared by the hierarchical-encoder and two-level tests: a linear-Gaussian model with
 * exact log p(x), a VAE whose linear Gaussian decoder is set to its W, b, σ, an encoder trained
 * on its samples with the decoder (and prior) frozen, and the bounds it then reports.
 */
import { LinearGaussianModel, Random, createVae, tf } from '../../plugins/index.js';
import type { PluginSpec, Vae } from '../../plugins/index.js';
import { train } from '../../src/train/trainer.js';

export const LG = { dataDim: 6, latentDim: 2, sigma: 0.5, seed: 11 } as const;

export interface BoundsOptions {
  encoder: PluginSpec;
  prior?: PluginSpec;
  /** Total latent dimension of the VAE (default LG.latentDim). */
  latentDim?: number;
  /** Extra weights to set (e.g. the prior's), by name. */
  weights?: (vae: Vae) => Record<string, tf.Tensor>;
  epochs?: number;
  learningRate?: number;
  iwaeSamples?: readonly number[];
  seed?: number;
}

export interface Bounds {
  /** Mean exact log p(x) over the test rows. */
  logPx: number;
  /** Mean ELBO (100 samples per row) and its standard error over rows of ELBO − log p(x). */
  elbo: number;
  elboSe: number;
  /** Mean IWAE_K per K, and the standard error of the mean of IWAE_K − log p(x). */
  iwae: { k: number; mean: number; se: number }[];
  /** `vae.iwae` itself at the largest K (independent draws), mean and standard error. */
  iwaeDirect: { k: number; mean: number; se: number };
  /** Untrained mean ELBO (so the caller sees training did something). */
  untrainedElbo: number;
}

function meanAndSe(a: ArrayLike<number>): { mean: number; se: number } {
  const n = a.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += a[i]!;
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (a[i]! - m) ** 2;
  return { mean: m, se: Math.sqrt(v / (n - 1) / n) };
}

function read(t: tf.Tensor): Float32Array {
  const a = t.dataSync() as Float32Array;
  t.dispose();
  return a;
}

export async function linearGaussianBounds(o: BoundsOptions): Promise<Bounds> {
  const model = LinearGaussianModel.random({ dataDim: LG.dataDim, latentDim: LG.latentDim, sigma: LG.sigma, seed: LG.seed });
  const data = model.sample(600, new Random(3));
  const testRows = 200;
  const test = model.sample(testRows, new Random(4));
  const exact = model.logProb(test.x);
  const vae = createVae(
    {
      model: {
        latentDim: o.latentDim ?? LG.latentDim,
        dataDim: LG.dataDim,
        encoder: o.encoder,
        ...(o.prior ? { prior: o.prior } : {}),
        likelihood: { type: 'gaussian', hidden: [], variance: 'fixed', sigma: LG.sigma },
      },
    },
    { seed: o.seed ?? 1 },
  );
  try {
    // Decoder kernel [D₁, P] = Wᵀ (W is P×D row-major), bias = b.
    const wt = new Float32Array(LG.latentDim * LG.dataDim);
    for (let i = 0; i < LG.dataDim; i++) for (let j = 0; j < LG.latentDim; j++) wt[j * LG.dataDim + i] = model.W[i * LG.latentDim + j]!;
    const weights: Record<string, tf.Tensor> = {
      'likelihood/net/0/kernel': tf.tensor2d(wt, [LG.latentDim, LG.dataDim]),
      'likelihood/net/0/bias': tf.tensor1d(Float32Array.from(model.b)),
      ...(o.weights ? o.weights(vae) : {}),
    };
    vae.setWeights(weights, { strict: false });
    tf.dispose(Object.values(weights));

    const x = tf.tensor2d(test.x, [testRows, LG.dataDim]);
    const elboOf = () => read(tf.tidy(() => vae.elbo(x, { samples: 100 }).elbo));
    const untrained = meanAndSe(elboOf()).mean;
    await train(vae, data, {
      epochs: o.epochs ?? 30,
      batchSize: 25,
      learningRate: o.learningRate ?? 1e-2,
      objective: { type: 'elbo', samples: 1 },
      freeze: ['likelihood', 'prior'],
      seed: o.seed ?? 1,
      progress: false,
      quiet: true,
    });
    const diff = (v: Float32Array) => Float64Array.from(v, (e, i) => e - exact[i]!);
    const logPx = meanAndSe(exact).mean;
    const e = meanAndSe(diff(elboOf()));
    // IWAE_K from one pool of N = max K log-weights per row, split into N/K disjoint groups of K
    // (the mean over groups estimates E[IWAE_K] with common samples across K, so the rise with K
    // is not masked by independent noise).
    const ks = o.iwaeSamples ?? [1, 10, 100, 1000];
    const n = Math.max(...ks);
    const logW = vae.logWeights(x, { samples: n });
    const iwae = ks.map((k) => {
      const perRow = read(
        tf.tidy(() => tf.mean(tf.sub(tf.logSumExp(tf.reshape(logW, [n / k, k, testRows]), 1), Math.log(k)), 0)),
      );
      const s = meanAndSe(diff(perRow));
      return { k, mean: logPx + s.mean, se: s.se };
    });
    logW.dispose();
    const direct = meanAndSe(diff(read(vae.iwae(x, { samples: n }))));
    const iwaeDirect = { k: n, mean: logPx + direct.mean, se: direct.se };
    x.dispose();
    return { logPx, elbo: logPx + e.mean, elboSe: e.se, iwae, iwaeDirect, untrainedElbo: untrained };
  } finally {
    vae.dispose();
  }
}
