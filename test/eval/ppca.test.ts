import { describe, expect, it } from 'vitest';
import { createVae, Random, tf } from '../../plugins/index.js';
import { LinearGaussianModel } from '../../src/data/linear-gaussian.js';
import { averageLogLikelihood, decoderModel, exactVaeReport, fitPpca, fitPpcaEm, sampleMoments } from '../../src/eval/ppca.js';
import { estimateLogLikelihood } from '../../src/eval/log-likelihood.js';
import { linearVae } from '../support/linear-vae.js';

const P = 8;
const D = 3;
const truth = LinearGaussianModel.random({ dataDim: P, latentDim: D, sigma: 0.4, seed: 21 });
const data = truth.sample(500, new Random(22));
const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;

describe('PPCA', () => {
  it('closed-form ML log-likelihood equals the mean of exact per-row log p(x) and beats the true model on its training data', () => {
    const fit = fitPpca(data, D);
    expect(fit.logLikelihood).toBeCloseTo(mean(fit.model.logProb(data.x)), 8);
    const trueLl = mean(truth.logProb(data.x));
    expect(fit.logLikelihood).toBeGreaterThan(trueLl); // the ML solution is at least as likely as the truth
    expect(fit.logLikelihood - trueLl).toBeLessThan(0.2); // …and close to it with 500 rows
    expect(Math.sqrt(fit.sigma2)).toBeCloseTo(0.4, 1);
  });

  it('EM reaches the closed-form maximum-likelihood log-likelihood, monotonically', () => {
    const closed = fitPpca(data, D);
    const em = fitPpcaEm(data, D, { iterations: 2000, tolerance: 1e-12, seed: 4 });
    expect(Math.abs(em.logLikelihood - closed.logLikelihood)).toBeLessThan(1e-6);
    expect(Math.abs(em.sigma2 - closed.sigma2)).toBeLessThan(1e-6);
    for (let i = 1; i < em.history.length; i++) expect(em.history[i]!).toBeGreaterThanOrEqual(em.history[i - 1]! - 1e-9);
    // The first iterations are far below (the test could fail): EM really moved.
    expect(closed.logLikelihood - em.history[0]!).toBeGreaterThan(0.5);
    // Same covariance WWᵀ + σ²I (W itself is only determined up to a rotation).
    const c1 = em.model.covariance().data;
    const c2 = closed.model.covariance().data;
    for (let i = 0; i < c1.length; i++) expect(Math.abs(c1[i]! - c2[i]!)).toBeLessThan(1e-4);
  });

  it('averageLogLikelihood from moments equals the per-row exact log p(x) for any model', () => {
    const other = LinearGaussianModel.random({ dataDim: P, latentDim: D, sigma: 0.7, seed: 5 });
    expect(averageLogLikelihood(other, sampleMoments(data))).toBeCloseTo(mean(other.logProb(data.x)), 8);
  });
});

describe('exact linear-Gaussian VAE', () => {
  it('reads the decoder back as the model it was set to', () => {
    const vae = linearVae(truth);
    const m = decoderModel(vae);
    expect(m.sigma).toBeCloseTo(0.4, 6);
    const a = m.logProb(data.x.subarray(0, 10 * P));
    const b = truth.logProb(data.x.subarray(0, 10 * P));
    for (let i = 0; i < 10; i++) expect(a[i]).toBeCloseTo(b[i]!, 3);
    vae.dispose();
  });

  it('the exact gap of a VAE equals KL to its exact posterior', async () => {
    const vae = linearVae(truth, { meanShift: 0.3, logStdShift: 0.5 });
    const r = await exactVaeReport(vae, data, { elboSamples: 2000, seed: 1, trueModel: truth, progress: false });
    expect(r.klToPosterior).not.toBeNull();
    // The KL is closed form; only E_q[log p(x|z)] is Monte Carlo (2000 draws per row).
    expect(r.gap.mean).toBeGreaterThan(0.5);
    expect(Math.abs(r.gap.mean - r.klToPosterior!.mean)).toBeLessThan(0.01);
    expect(r.trueLogLikelihood!.mean).toBeCloseTo(r.logLikelihood.mean, 3);
    vae.dispose();
  });

  it('has zero gap at the exact posterior (the EM solution)', async () => {
    const vae = linearVae(truth);
    const r = await exactVaeReport(vae, data, { elboSamples: 1000, seed: 1, progress: false });
    // KL(q ‖ p(z|x)) is 0 in closed form; the ELBO's reconstruction is Monte Carlo (measured: −0.0007 ± 0.0017).
    expect(r.klToPosterior!.mean).toBeLessThan(1e-6);
    expect(r.gap.stdErr).toBeLessThan(0.005);
    expect(Math.abs(r.gap.mean)).toBeLessThan(3 * r.gap.stdErr + 1e-4);
    vae.dispose();
  });

  it('refuses a decoder with hidden layers, naming the field', () => {
    const vae = createVae({ latentDim: 2, dataDim: P, encoder: { type: 'gaussian', hidden: [] }, likelihood: { type: 'gaussian', hidden: [4] } });
    expect(() => decoderModel(vae)).toThrow(/model\.likelihood.*hidden: \[\]/);
    vae.dispose();
  });
});

describe('estimateLogLikelihood on the linear-Gaussian model', () => {
  it('converges to the exact log p(x) as K grows', async () => {
    const vae = linearVae(truth, { meanShift: 0.3, logStdShift: 0.4 });
    const rows = { ...data, x: data.x.subarray(0, 100 * P), rows: 100 };
    const exact = mean(truth.logProb(rows.x));
    const elbo = (await exactVaeReport(vae, rows, { elboSamples: 200, seed: 2, progress: false })).elbo.mean;
    const est10 = await estimateLogLikelihood(vae, rows, { samples: 10, seed: 3, progress: false });
    const est = await estimateLogLikelihood(vae, rows, { samples: 5000, seed: 3, progress: false });
    expect(exact - elbo).toBeGreaterThan(0.3); // q is clearly off the posterior…
    expect(Math.abs(est.mean - exact)).toBeLessThan(0.01); // …yet log p̂ with K = 5000 is within 0.01 nats
    // Per row the importance-sampling error is larger (measured at K = 5000: within ±0.08 nats).
    const exactRows = truth.logProb(rows.x);
    for (let i = 0; i < 100; i++) expect(Math.abs(est.perRow[i]! - exactRows[i]!)).toBeLessThan(0.15);
    expect(exact - est10.mean).toBeGreaterThan(exact - est.mean); // and K = 10 is further off
    vae.dispose();
  });
});

void tf;
