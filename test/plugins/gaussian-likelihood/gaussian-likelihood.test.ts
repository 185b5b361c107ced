import { describe, expect, it } from 'vitest';
import { createVae, tf, LOG_2PI } from '../../../plugins/index.js';

describe('gaussian likelihood', () => {
  it('equals −‖x−μ‖²/(2σ²) − (P/2)·log(2πσ²) with a fixed σ', () => {
    const sigma = 0.7;
    const vae = createVae({ latentDim: 2, dataDim: 4, encoder: { type: 'gaussian', hidden: [] }, likelihood: { type: 'gaussian', hidden: [3], sigma } });
    const x = tf.tensor2d([[0.1, -2, 3, 0.5]]);
    const z = vae.random.normal<tf.Rank.R3>([3, 1, 2]);
    const mu = vae.likelihood.mean(z).arraySync();
    const got = vae.likelihood.logProb(x, z).arraySync();
    const xs = x.arraySync()[0]!;
    for (let k = 0; k < 3; k++) {
      const sq = xs.reduce((s, v, j) => s + (v - mu[k]![0]![j]!) ** 2, 0);
      expect(got[k]![0]!).toBeCloseTo(-sq / (2 * sigma * sigma) - 2 * Math.log(2 * Math.PI * sigma * sigma), 4);
    }
    expect(vae.variables(['likelihood']).map((v) => v.name)).not.toContain('likelihood/logSigma');
    vae.dispose();
  });

  it('learns one σ per output dimension when asked, named likelihood/logSigma', () => {
    const vae = createVae({ latentDim: 2, dataDim: 4, encoder: { type: 'gaussian', hidden: [] }, likelihood: { type: 'gaussian', hidden: [], variance: 'per-dimension', sigma: 2 } });
    const w = vae.getWeights()['likelihood/logSigma']!;
    expect(w.shape).toEqual([4]);
    w.assign(tf.tensor1d([0, Math.log(2), 0, 0]));
    const x = tf.tensor2d([[1, 1, 1, 1]]);
    const z = tf.zeros([1, 1, 2]) as tf.Tensor3D;
    const mu = vae.likelihood.mean(z).dataSync();
    const expected = [0, 1, 2, 3].reduce((s, j) => {
      const sd = j === 1 ? 2 : 1;
      return s - (1 - mu[j]!) ** 2 / (2 * sd * sd) - Math.log(sd) - 0.5 * LOG_2PI;
    }, 0);
    expect(vae.likelihood.logProb(x, z).dataSync()[0]).toBeCloseTo(expected, 4);
    vae.dispose();
  });
});
