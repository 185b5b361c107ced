/**
 * The checks every `Prior` must pass, for D = `latentDim` (default 2):
 *  - a name and a kind (KL rules match on kind), `latentDim` = D;
 *  - shapes: logProb z `[K, B, D]` → `[K, B]`, sample(n) → `[n, D]`;
 *  - sample and logProb describe one normalised distribution: the importance identity
 *    E_p[r(z)/p(z)] = 1 over `samples` draws (see importance-identity.ts);
 *  - finite log p(z) and ∂ log p(z)/∂z for |z| up to 1e3;
 *  - no tensor leaks across repeated logProb and sample calls.
 *
 *   assertPrior('laplace', { make: (D, random) => new LaplacePrior(D, 1, random) });
 */
import { tf } from '../core/tf.js';
import { Random } from '../core/random.js';
import type { Prior } from '../core/prior.js';
import { allFinite, assertChecks, checkNoLeak, ensure, ensureShape, rejectUnknownKeys, runChecks, type CheckResult, type PluginCheck } from './check.js';
import { checkImportanceIdentity } from './importance-identity.js';

export interface PriorCheckOptions {
  /** Builds the prior for latent dimension D. */
  make(latentDim: number, random: Random): Prior;
  /** D (default 2). */
  latentDim?: number;
  /** Draws for the importance identity (default 20000). */
  samples?: number;
  /** Smallest allowed deviation of E[r/p] from 1 (default 0.02; the check allows max(5 s.e., this)). */
  tolerance?: number;
  /** Seed (default 7). */
  seed?: number;
}

const KNOWN = new Set(['make', 'latentDim', 'samples', 'tolerance', 'seed']);

export function priorChecks(o: PriorCheckOptions): PluginCheck[] {
  rejectUnknownKeys('priorChecks', o, KNOWN);
  const d = o.latentDim ?? 2;
  const n = o.samples ?? 20000;
  const seed = o.seed ?? 7;
  const withPrior = (salt: number, body: (p: Prior, random: Random) => string): string => {
    const random = new Random(seed * 1000 + salt);
    const prior = o.make(d, random);
    try {
      return body(prior, random);
    } finally {
      prior.dispose();
    }
  };
  return [
    {
      name: `has a name, a kind and latentDim = ${d}`,
      run: () =>
        withPrior(1, (p) => {
          ensure(typeof p.name === 'string' && p.name.length > 0, () => `name: expected a non-empty string; got ${JSON.stringify(p.name)}`);
          ensure(typeof p.kind === 'string' && p.kind.length > 0, () => `kind: expected a non-empty string (KL rules match on it); got ${JSON.stringify(p.kind)}`);
          ensure(p.latentDim === d, () => `latentDim: expected ${d}; got ${p.latentDim}`);
          return `name ${p.name}, kind ${p.kind}`;
        }),
    },
    {
      name: 'maps z [K, B, D] to log p(z) [K, B] and sample(n) to [n, D]',
      run: () =>
        withPrior(2, (p, random) => {
          const z = random.normal<tf.Rank.R3>([3, 4, d]);
          const lp = p.logProb(z);
          const s = p.sample(5);
          try {
            ensureShape('logProb', lp, [3, 4]);
            ensureShape('sample(5)', s, [5, d]);
          } finally {
            tf.dispose([z, lp, s]);
          }
          return 'shapes hold';
        }),
    },
    {
      name: 'samples from the normalised density its logProb gives (importance identity)',
      run: () =>
        withPrior(3, (p) => {
          const s = p.sample(n);
          const lp = tf.tidy(() => p.logProb(tf.reshape(s, [1, n, d]) as tf.Tensor3D));
          try {
            return checkImportanceIdentity(s.dataSync() as Float32Array, lp.dataSync() as Float32Array, d, 'real', o.tolerance);
          } finally {
            tf.dispose([s, lp]);
          }
        }),
    },
    {
      name: 'gives finite log p(z) and gradients for |z| up to 1e3',
      run: () =>
        withPrior(4, (p, random) => {
          const z = tf.tidy(() => tf.mul(tf.sign(random.normal<tf.Rank.R3>([3, 4, d])), 1e3) as tf.Tensor3D);
          const lp = p.logProb(z);
          const g = tf.grad((zz: tf.Tensor) => tf.sum(p.logProb(zz as tf.Tensor3D)))(z);
          try {
            ensure(allFinite(lp), () => 'logProb is NaN or ±Infinity at |z| = 1e3');
            ensure(allFinite(g), () => '∂ log p(z)/∂z is NaN or ±Infinity at |z| = 1e3');
          } finally {
            tf.dispose([z, lp, g]);
          }
          return 'finite at |z| = 1e3';
        }),
    },
    {
      name: 'leaks no tensors across repeated calls',
      run: () =>
        withPrior(5, (p, random) => {
          const z = random.normal<tf.Rank.R3>([3, 4, d]);
          try {
            return checkNoLeak(() => tf.dispose([p.logProb(z), p.sample(4)]));
          } finally {
            z.dispose();
          }
        }),
    },
  ];
}

export function checkPrior(o: PriorCheckOptions): CheckResult[] {
  return runChecks(priorChecks(o));
}

export function assertPrior(subject: string, o: PriorCheckOptions): CheckResult[] {
  return assertChecks(`prior ${subject}`, priorChecks(o));
}
