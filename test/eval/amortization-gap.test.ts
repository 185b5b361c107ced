import { describe, expect, it } from 'vitest';
import { createVae, Random, tf } from '../../plugins/index.js';
import { LinearGaussianModel } from '../../src/data/linear-gaussian.js';
import { amortizationGap, formatAmortizationGap } from '../../src/eval/amortization-gap.js';
import { exactVaeReport } from '../../src/eval/ppca.js';
import { linearVae } from '../support/linear-vae.js';

const P = 8;
const D = 3;
const truth = LinearGaussianModel.random({ dataDim: P, latentDim: D, sigma: 0.4, seed: 41 });
const data = truth.sample(60, new Random(42));

describe('amortizationGap', () => {
  it('on the linear-Gaussian model, optimising λ per point closes the whole gap: amortisation gap = KL(q ‖ p(z|x)), approximation gap ≈ 0', async () => {
    const vae = linearVae(truth, { meanShift: 0.4, logStdShift: 0.5 });
    const before = Object.fromEntries(Object.entries(vae.getWeights()).map(([k, v]) => [k, Array.from(v.dataSync())]));
    const tensors = tf.memory().numTensors;
    const r = await amortizationGap(vae, data, { steps: 150, learningRate: 0.05, stepElboSamples: 10, elboSamples: 200, samples: 1000, batchSize: 25, seed: 3, progress: false });
    expect(tf.memory().numTensors).toBe(tensors);
    const ex = await exactVaeReport(vae, data, { elboSamples: 10, seed: 1, progress: false });
    for (const [k, v] of Object.entries(vae.getWeights())) expect(Array.from(v.dataSync())).toEqual(before[k]); // model untouched
    for (let i = 0; i < data.rows; i++) expect(r.perRow.optimizedElbo[i]!).toBeGreaterThanOrEqual(r.perRow.encoderElbo[i]!);
    expect(r.improvedRows).toBe(data.rows);
    expect(Math.abs(r.logLikelihood.mean - ex.logLikelihood.mean)).toBeLessThan(0.01);
    // The diagonal Gaussian family contains this posterior (orthogonal W), so q* = p(z|x).
    expect(Math.abs(r.amortizationGap.mean - ex.klToPosterior!.mean)).toBeLessThan(0.05);
    expect(Math.abs(r.approximationGap.mean)).toBeLessThan(0.05);
    expect(r.amortizationGap.mean).toBeGreaterThan(0.5);
    expect(r.totalGap.mean).toBeCloseTo(r.amortizationGap.mean + r.approximationGap.mean, 9);
    expect(formatAmortizationGap(r)).toContain('| amortisation gap (optimised − encoder ELBO) |');
    expect(JSON.parse(JSON.stringify(r)).rows).toBe(60);
    vae.dispose();
  });

  it('keeps optimised ≥ encoder ELBO on every test point of a nonlinear model, even with a poor optimiser', async () => {
    const vae = createVae({
      latentDim: 2,
      dataDim: 12,
      encoder: { type: 'gaussian', hidden: [8] },
      likelihood: { type: 'bernoulli', hidden: [8] },
      seed: 5,
    });
    const r0 = new Random(6);
    const x = tf.tensor2d(Float32Array.from({ length: 40 * 12 }, () => (r0.uniform() < 0.4 ? 1 : 0)), [40, 12]);
    // A large learning rate and few samples: some rows get worse; they keep the encoder's λ.
    const r = await amortizationGap(vae, x, { steps: 20, learningRate: 0.5, stepElboSamples: 1, elboSamples: 50, samples: 100, batchSize: 16, checkEvery: 5, seed: 2, progress: false });
    for (let i = 0; i < 40; i++) expect(r.perRow.optimizedElbo[i]!).toBeGreaterThanOrEqual(r.perRow.encoderElbo[i]!);
    expect(r.improvedRows).toBeGreaterThan(0);
    expect(r.amortizationGap.mean).toBeGreaterThan(0);
    x.dispose();
    vae.dispose();
  });
});
