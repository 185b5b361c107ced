import { describe, expect, it } from 'vitest';
import { Random, tf } from '../../plugins/index.js';
import { LinearGaussianModel } from '../../src/data/linear-gaussian.js';
import { boundReport, formatBoundReport, formatBoundReports } from '../../src/eval/bound-report.js';
import { estimateLogLikelihood } from '../../src/eval/log-likelihood.js';
import { exactVaeReport } from '../../src/eval/ppca.js';
import { linearVae } from '../support/linear-vae.js';

const P = 8;
const D = 3;
const truth = LinearGaussianModel.random({ dataDim: P, latentDim: D, sigma: 0.4, seed: 31 });
const data = truth.sample(100, new Random(32));
const exact = Array.from(truth.logProb(data.x)).reduce((a, b) => a + b, 0) / data.rows;

describe('boundReport', () => {
  it('has consistent columns: IWAE_1 ≈ ELBO, IWAE_K non-decreasing in K, log p̂ ≥ ELBO and ≈ the exact log p(x)', async () => {
    const vae = linearVae(truth, { meanShift: 0.3, logStdShift: 0.5 });
    const r = await boundReport(vae, data, { elboSamples: 1000, iwaeSamples: [1, 10, 100, 1000], samples: 2000, seed: 4, progress: false });
    const ex = await exactVaeReport(vae, data, { elboSamples: 1000, seed: 5, progress: false });
    expect(r.rows).toBe(100);
    expect(r.klExact).toBe(true);
    expect(r.iwae.map((e) => e.samples)).toEqual([1, 10, 100, 1000]);
    expect(r.iwae.map((e) => e.groups)).toEqual([2000, 200, 20, 2]);
    expect(r.elbo.mean).toBeCloseTo(r.reconstruction.mean - r.kl.mean, 5);
    // IWAE_1 = mean log w over 2000 draws estimates the same expectation as the ELBO.
    expect(Math.abs(r.iwae[0]!.mean - r.elbo.mean)).toBeLessThan(0.02);
    for (let j = 1; j < r.iwae.length; j++) expect(r.iwae[j]!.mean).toBeGreaterThan(r.iwae[j - 1]!.mean);
    expect(r.iwae[1]!.mean - r.iwae[0]!.mean).toBeGreaterThan(0.2); // q is off the posterior: K matters
    expect(r.logLikelihood.mean).toBeGreaterThanOrEqual(r.iwae[r.iwae.length - 1]!.mean - 0.005);
    expect(r.logLikelihood.mean).toBeGreaterThan(r.elbo.mean);
    expect(Math.abs(r.logLikelihood.mean - exact)).toBeLessThan(0.01);
    expect(r.logLikelihood.mean).toBeLessThan(exact + 0.01);
    // The gap estimate matches the exact gap KL(q ‖ p(z|x)) of this linear model.
    expect(Math.abs(r.gap.mean - ex.klToPosterior!.mean)).toBeLessThan(0.03);
    expect(r.gap.mean).toBeCloseTo(r.logLikelihood.mean - r.elbo.mean, 9);
    vae.dispose();
  });

  it('is reproducible with a seed, JSON-serialisable, and its table shows every K and the Jensen note', async () => {
    const vae = linearVae(truth, { meanShift: 0.2 });
    const opts = { elboSamples: 20, iwaeSamples: [10, 1, 50], samples: 50, batchSize: 30, chunk: 7, seed: 8, progress: false };
    const a = await boundReport(vae, data, opts);
    const b = await boundReport(vae, data, { ...opts, chunk: 50 });
    expect(b.logLikelihood.mean).toBeCloseTo(a.logLikelihood.mean, 4);
    expect(b.elbo.mean).toBeCloseTo(a.elbo.mean, 4);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    const md = formatBoundReport(a, { title: 'linear' });
    for (const k of [1, 10, 50]) expect(md).toContain(`| IWAE_${k} |`);
    expect(md).toContain('E[log p̂(x)] ≤ log E[p̂(x)] = log p(x)');
    expect(md).toContain('under-states');
    const wide = formatBoundReports({ one: a, two: b });
    expect(wide.split('\n')[0]).toBe('| model | ELBO | IWAE_1 | IWAE_10 | IWAE_50 | log p̂(x) | gap | ESS (median) | k̂ > 0.7 (rows) |');
    expect(wide).toContain('| two |');
    vae.dispose();
  });

  it('uses the same log p̂ machinery as estimateLogLikelihood and leaks no tensors', async () => {
    const vae = linearVae(truth, { meanShift: 0.2 });
    const before = tf.memory().numTensors;
    const r = await boundReport(vae, data, { elboSamples: 5, iwaeSamples: [1, 10], samples: 200, seed: 8, progress: false });
    const e = await estimateLogLikelihood(vae, data, { samples: 200, seed: 8, progress: false });
    expect(tf.memory().numTensors).toBe(before);
    // Different noise (the report draws its ELBO first), same target: within a few hundredths.
    expect(Math.abs(r.logLikelihood.mean - e.mean)).toBeLessThan(0.03);
    vae.dispose();
  });
});
