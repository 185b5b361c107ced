import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVae, diagonalNormalLogProb, parseConfig, tf } from '../../../plugins/index.js';
import type { Vae } from '../../../plugins/index.js';
import { HierarchicalEncoder } from '../../../plugins/hierarchical-encoder/hierarchical-encoder.js';
import { expectNoLeak } from '../../support/memory.js';
import { loadVae, saveVae } from '../../../src/train/saved-model.js';
import { linearGaussianBounds } from '../../support/linear-gaussian-bounds.js';

function smallVae(seed = 3, encoder: Record<string, unknown> = {}): Vae {
  return createVae(
    {
      model: {
        latentDim: 2,
        dataDim: 3,
        encoder: { type: 'hierarchical', hidden: [8], auxDim: 1, auxHidden: [8], ...encoder },
        likelihood: { type: 'gaussian', hidden: [] },
      },
    },
    { seed },
  );
}

const X = [[0.5, -1.2, 0.8]];

/** Sum over rows of a [N] tensor's values, read outside tidy. */
function values(t: tf.Tensor): number[] {
  const a = Array.from(t.dataSync());
  t.dispose();
  return a;
}

/**
 * For each of K sampled z (treated as K rows sharing one x), log q(z|x) = log ∫ q(u|x) q(z|u,x) du
 * and KL(q(u|z,x) ‖ r(u|z,x)) by the midpoint rule over a grid of the 1-D u.
 */
function integrateOutU(enc: HierarchicalEncoder, lambda: tf.Tensor2D, z: tf.Tensor3D, grid = 201): { logQz: number[]; kl: number[] } {
  const k = z.shape[1];
  const [mu, logStd] = Array.from(tf.tidy(() => tf.slice(lambda, [0, 0], [1, 2])).dataSync());
  const sd = Math.exp(logStd!);
  const lo = mu! - 12 * sd;
  const du = (24 * sd) / grid;
  const us = new Float32Array(grid);
  for (let g = 0; g < grid; g++) us[g] = lo + (g + 0.5) * du;
  const out = tf.tidy(() => {
    const lam = tf.tile(lambda, [k, 1]) as tf.Tensor2D;
    const u = tf.tile(tf.reshape(tf.tensor1d(us), [grid, 1, 1]), [1, k, 1]) as tf.Tensor3D;
    const zz = tf.tile(z, [grid, 1, 1]) as tf.Tensor3D;
    const d = enc.densities(lam, u, zz);
    const logJoint = tf.add(d.logQu, d.logQzGivenU); // [G, K]
    const logQz = tf.add(tf.logSumExp(logJoint, 0), Math.log(du)); // [K]
    const logPost = tf.sub(logJoint, logQz); // log q(u|z,x) on the grid
    const kl = tf.sum(tf.mul(tf.mul(tf.exp(logPost), du), tf.sub(logPost, d.logR)), 0);
    return tf.stack([logQz, kl]);
  });
  const a = out.arraySync() as number[][];
  out.dispose();
  return { logQz: a[0]!, kl: a[1]! };
}

function meanAndSe(a: number[]): { mean: number; se: number } {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const varr = a.reduce((s, v) => s + (v - mean) ** 2, 0) / (a.length - 1);
  return { mean, se: Math.sqrt(varr / a.length) };
}

describe('hierarchical (auxiliary-variable) encoder', () => {
  it('returns z [K,B,D], logQ [K,B] and λ [B, 2A + W_z + W_r], with no closed-form posterior', () => {
    const vae = createVae({ model: { latentDim: 5, dataDim: 7, encoder: { type: 'hierarchical', hidden: [16], auxDim: 3, auxHidden: [12] }, likelihood: { type: 'bernoulli', hidden: [] } } });
    const enc = vae.encoder as HierarchicalEncoder;
    const x = tf.ones([4, 7]) as tf.Tensor2D;
    const lambda = enc.params(x);
    expect(lambda.shape).toEqual([4, 2 * 3 + 12 + 12]);
    const s = enc.sample(x, 6);
    expect(s.z.shape).toEqual([6, 4, 5]);
    expect(s.logQ.shape).toEqual([6, 4]);
    expect(s.posterior).toBeUndefined();
    expect(enc.mode(x).shape).toEqual([4, 5]);
    const r = vae.elbo(x, { samples: 2 });
    expect(r.klExact).toBe(false);
    expect(() => enc.sampleFromParams(tf.zeros([4, 5]) as tf.Tensor2D, 1)).toThrow(/expected λ of shape \[B, 30\].*got \[4, 5\]/);
    tf.dispose([x, lambda, s.z, s.logQ, r.elbo, r.kl, r.reconstruction]);
    vae.dispose();
  });

  it('builds the example config configs/hierarchical.json with auxDim 50 and the Monte Carlo KL', () => {
    const vae = createVae(parseConfig(JSON.parse(readFileSync(new URL('../../../configs/hierarchical.json', import.meta.url), 'utf8'))));
    const enc = vae.encoder as HierarchicalEncoder;
    expect([enc.name, enc.auxDim, enc.latentDim, enc.paramDim]).toEqual(['hierarchical', 50, 50, 2 * 50 + 200 + 200]);
    vae.dispose();
  });

  it('reports logQ = log q(u|x) + log q(z|u,x) − log r(u|z,x), each density agreeing with a direct evaluation', () => {
    const vae = smallVae();
    const enc = vae.encoder as HierarchicalEncoder;
    const x = tf.tensor2d(X);
    const lambda = enc.params(x);
    const s = enc.sampleWithAuxiliary(lambda, 50);
    const d = enc.densities(lambda, s.u, s.z);
    const direct = tf.sub(tf.add(d.logQu, d.logQzGivenU), d.logR);
    const diff = values(tf.max(tf.abs(tf.sub(direct, s.logQ))));
    expect(diff[0]).toBeLessThan(1e-4);
    const parts = values(tf.max(tf.abs(tf.sub(tf.sub(tf.add(s.logQu, s.logQzGivenU), s.logR), s.logQ))));
    expect(parts[0]).toBeLessThan(1e-5);
    tf.dispose([x, lambda, s.z, s.u, s.logQ, s.logQu, s.logQzGivenU, s.logR, d.logQu, d.logQzGivenU, d.logR, direct]);
    vae.dispose();
  });

  it('reports a logQ whose mean exceeds the true log q(z|x) (u integrated out on a grid) by E_z KL(q(u|z,x) ‖ r(u|z,x)) ≥ 0', () => {
    const vae = smallVae(5);
    const enc = vae.encoder as HierarchicalEncoder;
    const x = tf.tensor2d(X);
    const lambda = enc.params(x);

    const check = (k: number) => {
      const s = enc.sampleFromParams(lambda, k); // z [k, 1, 2]
      const zRows = tf.reshape(s.z, [1, k, 2]) as tf.Tensor3D;
      const { logQz, kl } = integrateOutU(enc, lambda, zRows);
      const logQ = values(s.logQ);
      tf.dispose([s.z, zRows]);
      const excess = meanAndSe(logQ.map((v, i) => v - logQz[i]!));
      const residual = meanAndSe(logQ.map((v, i) => v - logQz[i]! - kl[i]!));
      return { excess, residual, kl: meanAndSe(kl), minKl: Math.min(...kl) };
    };

    // Measured (seed 5): the excess is ≈ 28 nats before fitting r and ≈ 0.6 ± 0.02 after, equal to
    // the grid KL; a 201-point grid agrees with a 1601-point one to 1e-5 nats.
    const before = check(1000);
    // The inequality the bound relies on: E[logQ] − E[log q(z|x)] ≥ 0 (here well above 3 SE) …
    expect(before.excess.mean - 3 * before.excess.se).toBeGreaterThan(0);
    // … and it is exactly the mean KL from r to the true q(u|z,x), within 3.5 standard errors.
    expect(Math.abs(before.residual.mean)).toBeLessThan(3.5 * before.residual.se + 1e-3);
    expect(before.minKl).toBeGreaterThan(-1e-4);

    // Fitting r alone (max E log r(u|z,x)) shrinks the excess, which stays ≥ 0.
    const reverse = vae.variables(['encoder']).filter((v) => v.name.startsWith('encoder/reverse/')).map((v) => v.variable);
    const opt = tf.train.adam(0.02);
    for (let i = 0; i < 200; i++) {
      const cost = opt.minimize(() => tf.mean(enc.sampleFromParams(lambda, 64).logQ) as tf.Scalar, true, reverse);
      cost?.dispose();
    }
    opt.dispose();
    const after = check(1000);
    expect(after.kl.mean).toBeLessThan(0.5 * before.kl.mean);
    expect(after.excess.mean + 3 * after.excess.se).toBeGreaterThan(0);
    expect(Math.abs(after.residual.mean)).toBeLessThan(3.5 * after.residual.se + 1e-3);
    tf.dispose([x, lambda]);
    vae.dispose();
  });

  it('with a flow on z given u, reports log q(z|u,x) = log q₀(z₀|u,x) − Σ log|det|, checked by inverting the flow', () => {
    const vae = smallVae(4, { flow: [{ type: 'realnvp', count: 2, hidden: [8] }] });
    const enc = vae.encoder as HierarchicalEncoder;
    expect(enc.flow.length).toBe(2);
    const x = tf.tensor2d(X);
    const lambda = enc.params(x);
    expect(lambda.shape).toEqual([1, 2 * 1 + 8 + 8 + 8]); // μ_u, log σ_u, c_z, c_r, h
    const s = enc.sampleWithAuxiliary(lambda, 40);
    const expected = tf.tidy(() => {
      const [, , cz, , h] = tf.split(lambda, enc.paramSizes, 1) as tf.Tensor2D[];
      let z = s.z;
      let logDetInverse: tf.Tensor = tf.zeros([40, 1]);
      for (const step of [...enc.flow].reverse()) {
        const r = step.inverse(z, h);
        z = r.z;
        logDetInverse = tf.add(logDetInverse, r.logDet);
      }
      const [mean, logStd] = tf.split(enc.zNet.apply(cz!, s.u), 2, 2);
      return tf.add(diagonalNormalLogProb(z, mean!, logStd!), logDetInverse);
    });
    const diff = values(tf.max(tf.abs(tf.sub(expected, s.logQzGivenU))));
    expect(diff[0]).toBeLessThan(1e-3);
    expect(() => enc.densities(lambda, s.u, s.z)).toThrow(/not available with a flow/);
    const planar = smallVae(4, { flow: [{ type: 'planar', count: 3 }] });
    const r = planar.elbo(x, { samples: 5 });
    expect(values(r.elbo).every(Number.isFinite)).toBe(true);
    // The 3 planar steps are one entry with one head, named by the steps it covers.
    expect((planar.encoder as HierarchicalEncoder).flow.length).toBe(1);
    expect(Object.keys(planar.getWeights()).filter((n) => n.startsWith('encoder/flow/'))).toEqual(['encoder/flow/0-2/head/kernel', 'encoder/flow/0-2/head/bias']);
    tf.dispose([x, lambda, s.z, s.u, s.logQ, s.logQu, s.logQzGivenU, s.logR, expected, r.kl, r.reconstruction]);
    planar.dispose();
    vae.dispose();
  });

  it('survives saveVae/loadVae (with a planar flow on z) with the same IWAE bound', async () => {
    const vae = smallVae(6, { flow: [{ type: 'planar', count: 2 }] });
    const x = tf.tensor2d([X[0]!, [1, 0, -1]]);
    const dir = mkdtempSync(join(tmpdir(), 'vaekit-hierarchical-'));
    try {
      await saveVae(vae, dir);
      const loaded = await loadVae(dir);
      // Two planar steps: one entry (one head) standing for both.
      expect((loaded.encoder as HierarchicalEncoder).flow.map((f) => (f as unknown as { count: number }).count)).toEqual([2]);
      vae.random.reseed(5);
      loaded.random.reseed(5);
      const before = values(vae.iwae(x, { samples: 20 }));
      const after = values(loaded.iwae(x, { samples: 20 }));
      before.forEach((v, i) => {
        expect(Number.isFinite(v)).toBe(true);
        expect(after[i]).toBeCloseTo(v, 4);
      });
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      x.dispose();
      vae.dispose();
    }
  });

  it('keeps the tensor count flat across elbo, iwae and gradient steps', async () => {
    const vae = smallVae();
    const x = tf.tensor2d([X[0]!, [1, 0, -1]]);
    const opt = tf.train.adam(1e-3);
    const vars = vae.variables().map((v) => v.variable);
    await expectNoLeak(() => {
      tf.dispose(Object.values(vae.elbo(x, { samples: 3 })).filter((v) => v instanceof tf.Tensor) as tf.Tensor[]);
      vae.iwae(x, { samples: 4 }).dispose();
      vae.encode(x).dispose();
      vae.reconstruct(x).dispose();
      opt.minimize(() => tf.neg(tf.mean(vae.elbo(x, { samples: 2 }).elbo)) as tf.Scalar, false, vars);
    });
    opt.dispose();
    x.dispose();
    vae.dispose();
  });
});

describe('hierarchical encoder on the linear-Gaussian model (exact log p(x))', () => {
  it('gives ELBO ≤ log p(x) and IWAE_K ≤ log p(x) for K = 1, 10, 100, 1000, rising with K', async () => {
    const b = await linearGaussianBounds({ encoder: { type: 'hierarchical', hidden: [16], auxDim: 2, auxHidden: [16] }, epochs: 15 });
    // Measured (seed 1): log p(x) −6.0485, ELBO −6.277 ± 0.035 (untrained −50.5), IWAE_1/10/100/1000
    // −6.282, −6.086, −6.055, −6.049 (± 0.038, 0.013, 0.006, 0.003).
    expect(b.untrainedElbo).toBeLessThan(b.elbo - 10);
    expect(b.elbo).toBeLessThan(b.logPx - 3 * b.elboSe);
    expect(b.elbo).toBeGreaterThan(b.logPx - 1);
    for (const { mean, se } of [...b.iwae, b.iwaeDirect]) expect(mean).toBeLessThanOrEqual(b.logPx + 3 * se);
    for (let i = 1; i < b.iwae.length; i++) {
      const [lo, hi] = [b.iwae[i - 1]!, b.iwae[i]!];
      expect(hi.mean).toBeGreaterThan(lo.mean - 2 * Math.hypot(lo.se, hi.se));
    }
    expect(b.iwae[1]!.mean).toBeGreaterThan(b.iwae[0]!.mean + 0.1);
    expect(b.iwae[b.iwae.length - 1]!.mean).toBeGreaterThan(b.iwae[1]!.mean + 0.02);
  });
});
