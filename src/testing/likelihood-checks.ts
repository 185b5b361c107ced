/**
 * The checks every `Likelihood` must pass, for D = `latentDim` (default 2) and P = `dataDim`
 * (default 3):
 *  - `dataDim` = P; shapes: logProb(x `[B, P]`, z `[K, B, D]`) → `[K, B]`, mean(z) and sample(z) → `[K, B, P]`;
 *  - sample and logProb describe one normalised distribution of x at a fixed z: the importance
 *    identity E_{x~p(x|z)}[r(x)/p(x|z)] = 1 (see importance-identity.ts; `support: 'binary'` for
 *    data in {0, 1}, where r is uniform on {0, 1}^P);
 *  - mean(z) is the mean of the draws, per output, to 5 standard errors + 1e-3;
 *  - its own draws pass `validateData` (when it has one);
 *  - log p(x|z) depends on z: ∂/∂z finite and not all zero; finite for |z| up to 100;
 *  - no tensor leaks across repeated logProb, mean and sample calls.
 *
 *   assertLikelihood('laplace', { make: (D, P, random) => new LaplaceLikelihood(D, P, [16], 0.1, random) });
 */
import { tf } from '../core/tf.js';
import { Random } from '../core/random.js';
import type { Likelihood } from '../core/likelihood.js';
import { allFinite, assertChecks, checkNoLeak, ensure, ensureShape, rejectUnknownKeys, runChecks, type CheckResult, type PluginCheck } from './check.js';
import { checkImportanceIdentity, type Support } from './importance-identity.js';

export interface LikelihoodCheckOptions {
  /** Builds the likelihood for latent dimension D and data width P. */
  make(latentDim: number, dataDim: number, random: Random): Likelihood;
  /** `'real'` (default) or `'binary'` (x in {0, 1}). */
  support?: Support;
  /** D (default 2). */
  latentDim?: number;
  /** P (default 3). */
  dataDim?: number;
  /** Draws for the importance identity and the mean (default 20000). */
  samples?: number;
  /** Smallest allowed deviation of E[r/p] from 1 (default 0.02). */
  tolerance?: number;
  /** Seed (default 7). */
  seed?: number;
}

const KNOWN = new Set(['make', 'support', 'latentDim', 'dataDim', 'samples', 'tolerance', 'seed']);

export function likelihoodChecks(o: LikelihoodCheckOptions): PluginCheck[] {
  rejectUnknownKeys('likelihoodChecks', o, KNOWN);
  const d = o.latentDim ?? 2;
  const p = o.dataDim ?? 3;
  const n = o.samples ?? 20000;
  const support = o.support ?? 'real';
  const seed = o.seed ?? 7;
  const withLikelihood = (salt: number, body: (l: Likelihood, random: Random) => string): string => {
    const random = new Random(seed * 1000 + salt);
    const l = o.make(d, p, random);
    try {
      return body(l, random);
    } finally {
      l.dispose();
    }
  };
  /** n draws x ~ p(x|z) at one fixed z, as `[n, P]`, with z tiled to `[1, n, D]`. */
  const drawsAtOneZ = (l: Likelihood, random: Random) =>
    tf.tidy(() => {
      const z0 = random.normal<tf.Rank.R3>([1, 1, d]);
      const z = tf.tile(z0, [1, n, 1]) as tf.Tensor3D;
      const x = tf.reshape(l.sample(z), [n, p]) as tf.Tensor2D;
      return { z, x, mean: tf.reshape(l.mean(z0), [p]) };
    });
  return [
    {
      name: `has dataDim = ${p} and maps x [B, P], z [K, B, D] to [K, B]; mean and sample to [K, B, P]`,
      run: () =>
        withLikelihood(1, (l, random) => {
          ensure(l.dataDim === p, () => `dataDim: expected ${p}; got ${l.dataDim}`);
          const z = random.normal<tf.Rank.R3>([3, 4, d]);
          const m = l.mean(z);
          const s = l.sample(z);
          const x = tf.tidy(() => tf.slice(s, [0, 0, 0], [1, 4, p]).reshape([4, p]) as tf.Tensor2D);
          const lp = l.logProb(x, z);
          try {
            ensureShape('mean', m, [3, 4, p]);
            ensureShape('sample', s, [3, 4, p]);
            ensureShape('logProb', lp, [3, 4]);
          } finally {
            tf.dispose([z, m, s, x, lp]);
          }
          return 'shapes hold';
        }),
    },
    {
      name: 'samples x from the normalised density its logProb gives (importance identity)',
      run: () =>
        withLikelihood(2, (l, random) => {
          const { z, x, mean } = drawsAtOneZ(l, random);
          const lp = l.logProb(x, z);
          try {
            return checkImportanceIdentity(x.dataSync() as Float32Array, lp.dataSync() as Float32Array, p, support, o.tolerance);
          } finally {
            tf.dispose([z, x, mean, lp]);
          }
        }),
    },
    {
      name: 'has mean(z) equal to the mean of its draws',
      run: () =>
        withLikelihood(3, (l, random) => {
          const { z, x, mean } = drawsAtOneZ(l, random);
          try {
            const xv = x.dataSync();
            const mv = mean.dataSync();
            let worst = 0;
            for (let j = 0; j < p; j++) {
              let s = 0;
              let s2 = 0;
              for (let i = 0; i < n; i++) {
                s += xv[i * p + j]!;
                s2 += xv[i * p + j]! ** 2;
              }
              const avg = s / n;
              const se = Math.sqrt(Math.max(s2 / n - avg * avg, 0) / n);
              const err = Math.abs(avg - mv[j]!);
              ensure(err <= 5 * se + 1e-3, () => `output ${j}: mean(z) = ${mv[j]}, mean of ${n} draws = ${avg} ± ${se.toExponential(2)}`);
              worst = Math.max(worst, err / (se + 1e-12));
            }
            return `|mean(z) − mean of draws| ≤ ${worst.toFixed(2)} standard errors`;
          } finally {
            tf.dispose([z, x, mean]);
          }
        }),
    },
    {
      name: 'accepts its own draws in validateData',
      run: () =>
        withLikelihood(4, (l, random) => {
          if (!l.validateData) return 'no validateData';
          const z = random.normal<tf.Rank.R3>([1, 8, d]);
          const s = l.sample(z);
          try {
            l.validateData(s.dataSync() as Float32Array, p);
          } finally {
            tf.dispose([z, s]);
          }
          return 'validateData accepts 8 draws';
        }),
    },
    {
      name: 'depends on z with finite gradients, and stays finite for |z| up to 100',
      run: () =>
        withLikelihood(5, (l, random) => {
          const z = random.normal<tf.Rank.R3>([2, 4, d]);
          const x = tf.tidy(() => tf.slice(l.sample(z), [0, 0, 0], [1, 4, p]).reshape([4, p]) as tf.Tensor2D);
          const g = tf.grad((zz: tf.Tensor) => tf.sum(l.logProb(x, zz as tf.Tensor3D)))(z);
          const big = tf.tidy(() => tf.mul(tf.sign(z), 100)) as tf.Tensor3D;
          const lpBig = l.logProb(x, big);
          try {
            ensure(allFinite(g), () => '∂ log p(x|z)/∂z is NaN or ±Infinity');
            const norm = tf.tidy(() => tf.max(tf.abs(g))).dataSync()[0]!;
            ensure(norm > 0, () => '∂ log p(x|z)/∂z is zero everywhere: the likelihood ignores z');
            ensure(allFinite(lpBig), () => 'logProb is NaN or ±Infinity at |z| = 100');
            return `max |∂ log p/∂z| = ${norm.toExponential(2)}`;
          } finally {
            tf.dispose([z, x, g, big, lpBig]);
          }
        }),
    },
    {
      name: 'leaks no tensors across repeated calls',
      run: () =>
        withLikelihood(6, (l, random) => {
          const z = random.normal<tf.Rank.R3>([3, 4, d]);
          const x = tf.tidy(() => tf.slice(l.sample(z), [0, 0, 0], [1, 4, p]).reshape([4, p]) as tf.Tensor2D);
          try {
            return checkNoLeak(() => tf.dispose([l.logProb(x, z), l.mean(z), l.sample(z)]));
          } finally {
            tf.dispose([z, x]);
          }
        }),
    },
  ];
}

export function checkLikelihood(o: LikelihoodCheckOptions): CheckResult[] {
  return runChecks(likelihoodChecks(o));
}

export function assertLikelihood(subject: string, o: LikelihoodCheckOptions): CheckResult[] {
  return assertChecks(`likelihood ${subject}`, likelihoodChecks(o));
}
