import { describe, expect, it } from 'vitest';
import { createVae, tf } from '../../plugins/index.js';

describe('closed-form KL of a diagonal Gaussian against N(0, I)', () => {
  it('agrees with its Monte Carlo estimate mean_K(logQ − logPz) within 4 standard errors', () => {
    const vae = createVae({ latentDim: 4, dataDim: 5, encoder: { type: 'gaussian', hidden: [6] }, likelihood: { type: 'bernoulli', hidden: [] }, seed: 3 });
    // Push the encoder away from N(0, I) so the KL is far from zero.
    const w = vae.getWeights();
    w['encoder/mean/bias']!.assign(tf.tensor1d([1.5, -0.5, 0.3, 2]));
    w['encoder/logStd/bias']!.assign(tf.tensor1d([-1, 0.4, -0.2, 0.1]));
    const x = tf.tensor2d([[1, 0, 1, 0, 1], [0, 0, 1, 1, 1], [0.3, 0.2, 0.1, 0.9, 1]]);
    const exact = vae.elbo(x, { samples: 1 });
    expect(exact.klExact).toBe(true);
    const K = 20000;
    const t = vae.terms(x, { samples: K });
    const diff = tf.sub(t.logQ, t.logPz);
    const mc = tf.mean(diff, 0).arraySync() as number[];
    const se = tf.div(tf.sqrt(tf.mean(tf.square(tf.sub(diff, tf.mean(diff, 0))), 0)), Math.sqrt(K)).arraySync() as number[];
    const kl = exact.kl.arraySync();
    for (let b = 0; b < 3; b++) {
      expect(kl[b]!).toBeGreaterThan(1);
      expect(Math.abs(mc[b]! - kl[b]!)).toBeLessThan(4 * se[b]!);
    }
    // With the rule switched off the bound reports the Monte Carlo estimate and says so.
    const noRule = vae.elbo(x, { samples: 5, analyticKl: false });
    expect(noRule.klExact).toBe(false);
    vae.dispose();
  });

  it('is ½Σ(μ² + σ² − log σ² − 1) for a hand-set posterior', () => {
    const vae = createVae({ latentDim: 2, dataDim: 2, encoder: { type: 'gaussian', hidden: [] }, likelihood: { type: 'gaussian', hidden: [] } });
    const w = vae.getWeights();
    w['encoder/mean/kernel']!.assign(tf.zeros([2, 2]));
    w['encoder/logStd/kernel']!.assign(tf.zeros([2, 2]));
    w['encoder/mean/bias']!.assign(tf.tensor1d([1, -2]));
    w['encoder/logStd/bias']!.assign(tf.tensor1d([Math.log(0.5), Math.log(3)]));
    const kl = vae.elbo(tf.tensor2d([[0, 0]])).kl.dataSync()[0]!;
    const expected = 0.5 * (1 + 0.25 - Math.log(0.25) - 1) + 0.5 * (4 + 9 - Math.log(9) - 1);
    expect(kl).toBeCloseTo(expected, 5);
    vae.dispose();
  });
});
