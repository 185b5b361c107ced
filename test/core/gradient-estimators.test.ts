import { describe, expect, it } from 'vitest';
import { Random, createVae, tf, type Objective, type Vae } from '../../plugins/index.js';
import { randomizeVariables } from '../support/flow-harness.js';
import { LinearGaussianModel } from '../../src/data/linear-gaussian.js';
import { linearVae } from '../support/linear-vae.js';
import { expectNoLeak } from '../support/memory.js';
import { train } from '../../src/train/trainer.js';

/**
 * STL and DReG on the linear-Gaussian model, whose exact posterior the Gaussian encoder can
 * represent (test/support/linear-vae.ts). At q = p(z|x), log w = log p(x, z) − log q(z|x) = log p(x)
 * for every z, so ∂log w/∂z = 0 and the path-only encoder gradients vanish for every noise draw
 * (Roeder et al., arXiv:1703.09194; Tucker et al., arXiv:1810.04152); the plain reparameterised
 * one does not (its score term ∇_λ log q has mean zero but is not zero per draw).
 */
const P = 6;
const D = 3;
const model = LinearGaussianModel.random({ dataDim: P, latentDim: D, sigma: 0.5, seed: 11 });
const data = model.sample(64, new Random(12));
const rows = (start: number, n: number) => tf.tensor2d(data.x.slice(start * P, (start + n) * P), [n, P]);

/** Gradients of the surrogate an estimator gives each part, for one seeded noise draw. */
function gradients(vae: Vae, objective: Objective, x: tf.Tensor2D, seed: number, withDecoder = true): { encoder: Float64Array; decoder: Float64Array } {
  const part = (prefix: string, which: 'loss' | 'encoderLoss') => {
    const vars = vae.variables([prefix as 'encoder' | 'likelihood']).map((v) => v.variable).filter((v) => v.trainable);
    vae.random.reseed(seed);
    const { value, grads } = tf.variableGrads(() => {
      const r = objective.compute(vae, x, { beta: 1, freeBits: 0, random: vae.random });
      return r[which] ?? r.loss;
    }, vars);
    const flat = Float64Array.from(vars.flatMap((v) => Array.from(grads[v.name]!.dataSync())));
    tf.dispose([value, ...Object.values(grads)]);
    return flat;
  };
  return { encoder: part('encoder', 'encoderLoss'), decoder: withDecoder ? part('likelihood', 'loss') : new Float64Array() };
}

const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

const SPECS = {
  'elbo reparam': { type: 'elbo', gradient: 'reparam' },
  'elbo stl': { type: 'elbo', gradient: 'stl' },
  'iwae reparam': { type: 'iwae', samples: 5, gradient: 'reparam' },
  'iwae stl': { type: 'iwae', samples: 5, gradient: 'stl' },
  'iwae dreg': { type: 'iwae', samples: 5, gradient: 'dreg' },
} as const;

describe('gradient estimators at the exact posterior of the linear-Gaussian model', () => {
  const vae = linearVae(model);
  const objectives = Object.fromEntries(Object.entries(SPECS).map(([k, s]) => [k, vae.objective(s)])) as Record<keyof typeof SPECS, Objective>;

  it('gives a zero STL encoder gradient of the ELBO and a zero DReG one of IWAE_5 for every noise draw; reparam is not zero', () => {
    // One row and K = 1 (elbo) or one set of K = 5 draws (iwae) per seed: per draw, not on average.
    for (let seed = 1; seed <= 12; seed++) {
      const x = rows(seed, 1);
      const reparam = gradients(vae, objectives['elbo reparam'], x, seed).encoder;
      const stl = gradients(vae, objectives['elbo stl'], x, seed).encoder;
      const iwaeReparam = gradients(vae, objectives['iwae reparam'], x, seed).encoder;
      const dreg = gradients(vae, objectives['iwae dreg'], x, seed).encoder;
      expect(maxAbs(reparam)).toBeGreaterThan(0.05);
      expect(maxAbs(iwaeReparam)).toBeGreaterThan(0.05);
      // float32 rounding of ∇_z log p(x,z) − ∇_z log q(z) (two different computations of one value)
      expect(maxAbs(stl)).toBeLessThan(2e-4 * maxAbs(reparam));
      expect(maxAbs(dreg)).toBeLessThan(2e-4 * maxAbs(iwaeReparam));
      x.dispose();
    }
  });

  it('leaves the decoder gradients as they are: only the encoder surrogate changes', () => {
    const x = rows(0, 16);
    for (const seed of [3, 4]) {
      const elbo = gradients(vae, objectives['elbo reparam'], x, seed).decoder;
      expect(maxAbs(elbo)).toBeGreaterThan(0.1);
      expect(maxDiff(gradients(vae, objectives['elbo stl'], x, seed).decoder, elbo)).toBeLessThan(1e-5 * maxAbs(elbo));
      const iwae = gradients(vae, objectives['iwae reparam'], x, seed).decoder;
      for (const k of ['iwae stl', 'iwae dreg'] as const) {
        expect(maxDiff(gradients(vae, objectives[k], x, seed).decoder, iwae)).toBeLessThan(1e-5 * maxAbs(iwae));
      }
    }
    x.dispose();
  });
});

describe('gradient estimators away from the posterior', () => {
  // q shifted off p(z|x): every estimator's gradient is non-zero and noisy.
  const vae = linearVae(model, { meanShift: 0.4, logStdShift: -0.3 });
  const x = rows(0, 8);
  const N = 300;

  /** Per-component mean and standard error of the encoder gradient over N independent draws. */
  function meanGradient(spec: (typeof SPECS)[keyof typeof SPECS], seedBase: number): { mean: Float64Array; se: Float64Array } {
    const objective = vae.objective(spec);
    const draws = Array.from({ length: N }, (_, i) => gradients(vae, objective, x, seedBase + i, false).encoder);
    const n = draws[0]!.length;
    const mean = new Float64Array(n);
    const se = new Float64Array(n);
    for (const g of draws) g.forEach((v, j) => (mean[j]! += v / N));
    for (const g of draws) g.forEach((v, j) => (se[j]! += (v - mean[j]!) ** 2 / (N - 1)));
    se.forEach((v, j) => (se[j] = Math.sqrt(v / N)));
    return { mean, se };
  }

  /** |mean_a − mean_b| ≤ 4.5 combined standard errors for every component (independent draws). */
  function expectSameMean(a: ReturnType<typeof meanGradient>, b: ReturnType<typeof meanGradient>): void {
    let worst = 0;
    a.mean.forEach((m, j) => (worst = Math.max(worst, Math.abs(m - b.mean[j]!) / Math.sqrt(a.se[j]! ** 2 + b.se[j]! ** 2 + 1e-12))));
    expect(worst).toBeLessThan(4.5);
  }

  it('STL is unbiased for the ELBO: its mean encoder gradient equals the reparameterised one within Monte Carlo error', () => {
    const reparam = meanGradient(SPECS['elbo reparam'], 1000);
    const stl = meanGradient(SPECS['elbo stl'], 5000);
    expectSameMean(stl, reparam);
    // and the check can fail: the mean gradient is far from zero here
    expect(Math.max(...reparam.mean.map((m, j) => Math.abs(m) / reparam.se[j]!))).toBeGreaterThan(10);
  });

  it('DReG is unbiased for IWAE_5: its mean encoder gradient equals the reparameterised one within Monte Carlo error', () => {
    const reparam = meanGradient(SPECS['iwae reparam'], 2000);
    const dreg = meanGradient(SPECS['iwae dreg'], 7000);
    expectSameMean(dreg, reparam);
    expect(Math.max(...reparam.mean.map((m, j) => Math.abs(m) / reparam.se[j]!))).toBeGreaterThan(10);
  });
});

describe('training with an estimator', () => {
  const linearData = { name: 'linear-gaussian', x: data.x, rows: data.rows, dim: P, binarize: 'none' as const };
  const quiet = { quiet: true, progress: false } as const;
  const weights = (vae: Vae) => Object.values(vae.getWeights()).flatMap((v) => Array.from(v.dataSync()));

  it('DReG with K = 1 trains as STL does (the two-pass encoder/decoder step equals the one-pass one)', async () => {
    const a = linearVae(model, { meanShift: 0.4, logStdShift: -0.3 });
    const b = linearVae(model, { meanShift: 0.4, logStdShift: -0.3 });
    const ha = await train(a, linearData, { epochs: 2, batchSize: 16, seed: 2, objective: { type: 'iwae', samples: 1, gradient: 'dreg' }, ...quiet });
    const hb = await train(b, linearData, { epochs: 2, batchSize: 16, seed: 2, objective: { type: 'iwae', samples: 1, gradient: 'stl' }, ...quiet });
    const wa = weights(a);
    const wb = weights(b);
    const start = weights(linearVae(model, { meanShift: 0.4, logStdShift: -0.3 }));
    expect(Math.max(...wa.map((v, i) => Math.abs(v - start[i]!)))).toBeGreaterThan(1e-3);
    expect(Math.max(...wa.map((v, i) => Math.abs(v - wb[i]!)))).toBeLessThan(1e-5);
    expect(ha.epochs[1]!.trainBound).toBeCloseTo(hb.epochs[1]!.trainBound, 4);
    a.dispose();
    b.dispose();
  });

  it('leaks no tensors with the two-pass DReG step or STL', async () => {
    const vae = linearVae(model, { meanShift: 0.4 });
    for (const objective of [{ type: 'iwae', samples: 4, gradient: 'dreg' }, { type: 'elbo', gradient: 'stl' }]) {
      await expectNoLeak(() => train(vae, linearData, { epochs: 1, batchSize: 16, seed: 1, objective, ...quiet }));
    }
    vae.dispose();
  });
});

describe('STL and DReG on the hierarchical encoder (auxiliary bound, planar flow on z)', () => {
  const vae = createVae({
    latentDim: D,
    dataDim: P,
    encoder: { type: 'hierarchical', hidden: [8], auxHidden: [8], auxDim: 2, flow: [{ type: 'planar', count: 2 }] },
    likelihood: { type: 'gaussian', hidden: [], variance: 'fixed', sigma: 0.5 },
    seed: 4,
  });
  randomizeVariables(vae.encoder, new Random(5), 0.3);
  const x = rows(0, 4);
  const N = 150;

  it('samplePathwise gives the sampled logQ values', () => {
    const enc = vae.encoder;
    const lambda = enc.params(x);
    vae.random.reseed(9);
    const a = enc.sampleFromParams(lambda, 5);
    vae.random.reseed(9);
    const b = enc.samplePathwise!(lambda, 5);
    expect(Array.from(b.z.dataSync())).toEqual(Array.from(a.z.dataSync()));
    const av = a.logQ.dataSync();
    const bv = b.logQ.dataSync();
    expect(Math.max(...av.map((v, i) => Math.abs(v - bv[i]!)))).toBeLessThan(1e-3);
    tf.dispose([lambda, a.z, a.logQ, b.z, b.logQ]);
  });

  function meanGradient(spec: object, seedBase: number): { mean: Float64Array; se: Float64Array } {
    const objective = vae.objective(spec);
    const draws = Array.from({ length: N }, (_, i) => gradients(vae, objective, x, seedBase + i, false).encoder);
    const n = draws[0]!.length;
    const mean = new Float64Array(n);
    const se = new Float64Array(n);
    for (const g of draws) g.forEach((v, j) => (mean[j]! += v / N));
    for (const g of draws) g.forEach((v, j) => (se[j]! += (v - mean[j]!) ** 2 / (N - 1)));
    se.forEach((v, j) => (se[j] = Math.sqrt(v / N)));
    return { mean, se };
  }

  it('keeps the mean encoder gradient of the ELBO (STL) and of IWAE_3 (DReG) within Monte Carlo error of reparam', () => {
    for (const [plain, other] of [
      [{ type: 'elbo' }, { type: 'elbo', gradient: 'stl' }],
      [{ type: 'iwae', samples: 3 }, { type: 'iwae', samples: 3, gradient: 'dreg' }],
    ] as const) {
      const a = meanGradient(plain, 100);
      const b = meanGradient(other, 900);
      let worst = 0;
      a.mean.forEach((m, j) => (worst = Math.max(worst, Math.abs(m - b.mean[j]!) / Math.sqrt(a.se[j]! ** 2 + b.se[j]! ** 2 + 1e-12))));
      expect(worst).toBeLessThan(5);
      expect(Math.max(...a.mean.map((m, j) => Math.abs(m) / a.se[j]!))).toBeGreaterThan(10);
    }
  });
});
