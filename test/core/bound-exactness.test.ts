import { describe, expect, it } from 'vitest';
import { tf, Random } from '../../plugins/index.js';
import { linearVae } from '../support/linear-vae.js';
import { LinearGaussianModel } from '../../src/data/linear-gaussian.js';

/**
 * The linear-Gaussian model x = Wz + b + σε has exact log p(x) and an exact Gaussian posterior
 * (diagonal when W has orthogonal columns). A VAE with a linear Gaussian decoder set to (W, b, σ)
 * and a linear encoder set to that posterior must reproduce log p(x); any other q must fall
 * short by exactly KL(q ‖ p(z|x)).
 */
const P = 6;
const D = 3;
const sigma = 0.5;
const model = LinearGaussianModel.random({ dataDim: P, latentDim: D, sigma, seed: 11 });
const data = model.sample(64, new Random(12));
const exact = model.logProb(data.x);

/** The VAE whose decoder is the model and whose encoder outputs its exact posterior. */
const vaeAtExactPosterior = () => linearVae(model, { seed: 3 });

const x = tf.tensor2d(data.x, [data.rows, P]);

/** Per-row standard error of mean_K log p(x|z), the only Monte Carlo part of the closed-form-KL ELBO. */
function reconstructionStdErr(vae: ReturnType<typeof vaeAtExactPosterior>, K: number): Float32Array {
  return tf.tidy(() => {
    const t = vae.terms(x, { samples: K });
    const centred = tf.sub(t.logPxGivenZ, tf.mean(t.logPxGivenZ, 0));
    return tf.div(tf.sqrt(tf.mean(tf.square(centred), 0)), Math.sqrt(K));
  }).dataSync() as Float32Array;
}

describe('the bound on the linear-Gaussian model', () => {
  it('has W with orthogonal columns, so the exact posterior is a diagonal Gaussian', () => {
    const M = model.M.data;
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) if (i !== j) expect(Math.abs(M[i * D + j]!)).toBeLessThan(1e-9);
  });

  it('gives ELBO = log p(x) per row when q is the exact posterior (Monte Carlo KL, K = 1)', () => {
    const vae = vaeAtExactPosterior();
    const elbo = vae.elbo(x, { samples: 1, analyticKl: false }).elbo.dataSync();
    for (let r = 0; r < data.rows; r++) expect(Math.abs(elbo[r]! - exact[r]!)).toBeLessThan(2e-4 * Math.abs(exact[r]!) + 1e-3);
    vae.dispose();
  });

  it('gives ELBO = log p(x) with the closed-form KL, within Monte Carlo error', () => {
    const vae = vaeAtExactPosterior();
    const r = vae.elbo(x, { samples: 4000 });
    expect(r.klExact).toBe(true);
    const elbo = r.elbo.dataSync();
    const se = reconstructionStdErr(vae, 4000);
    let within = 0;
    for (let i = 0; i < data.rows; i++) {
      expect(Math.abs(elbo[i]! - exact[i]!)).toBeLessThan(5 * se[i]!);
      if (Math.abs(elbo[i]! - exact[i]!) < 2 * se[i]!) within++;
    }
    // About 95 % of rows fall within 2 standard errors.
    expect(within / data.rows).toBeGreaterThan(0.85);
    vae.dispose();
  });

  it('gives IWAE_K = log p(x) per row for every K when q is the exact posterior', () => {
    const vae = vaeAtExactPosterior();
    for (const K of [1, 2, 10, 100]) {
      const iw = vae.iwae(x, { samples: K }).dataSync();
      for (let r = 0; r < data.rows; r++) expect(Math.abs(iw[r]! - exact[r]!)).toBeLessThan(2e-4 * Math.abs(exact[r]!) + 1e-3);
    }
    vae.dispose();
  });

  it('falls short by exactly KL(q ‖ p(z|x)) for any other q, and IWAE_K rises with K towards log p(x)', () => {
    const vae = vaeAtExactPosterior();
    const w = vae.getWeights();
    // Move q away from the posterior: shift the mean and widen one scale, narrow another.
    w['encoder/mean/bias']!.assign(tf.add(w['encoder/mean/bias']!, tf.tensor1d([0.4, -0.3, 0.2])));
    w['encoder/logStd/bias']!.assign(tf.add(w['encoder/logStd/bias']!, tf.tensor1d([0.5, -0.4, 0])));
    const post = tf.tidy(() => tf.split(vae.encoder.params(x), [D, D], 1).map((t) => t.dataSync() as Float32Array));
    const kl = model.klToPosterior(data.x, post[0]!, post[1]!);
    const K = 4000;
    const elbo = vae.elbo(x, { samples: K }).elbo.dataSync();
    const se = reconstructionStdErr(vae, K);
    // The closed-form KL to the prior is exact; only E_q[log p(x|z)] is estimated (standard error se).
    for (let r = 0; r < data.rows; r++) {
      expect(kl[r]!).toBeGreaterThan(0.1);
      expect(elbo[r]!).toBeLessThan(exact[r]!);
      expect(Math.abs(exact[r]! - elbo[r]! - kl[r]!)).toBeLessThan(5 * se[r]!);
    }
    const meanExact = exact.reduce((a, b) => a + b, 0) / data.rows;
    const means = [1, 10, 100, 1000].map((k) => {
      const v = vae.iwae(x, { samples: k });
      const m = tf.mean(v).dataSync()[0]!;
      v.dispose();
      return m;
    });
    for (let i = 1; i < means.length; i++) expect(means[i]!).toBeGreaterThan(means[i - 1]!);
    for (const m of means) expect(m).toBeLessThan(meanExact);
    expect(meanExact - means[3]!).toBeLessThan(0.05);
    vae.dispose();
  });
});
