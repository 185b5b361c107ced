import { describe, expect, it } from 'vitest';
import { createVae, tf } from '../../../plugins/index.js';

function setAll(vae: ReturnType<typeof createVae>, prefix: string, f: (shape: number[]) => tf.Tensor) {
  for (const [name, v] of Object.entries(vae.getWeights())) if (name.startsWith(prefix)) v.assign(f(v.shape));
}

describe('bernoulli likelihood', () => {
  it('equals minus the binary cross-entropy of its logits', () => {
    const vae = createVae({ latentDim: 3, dataDim: 6, encoder: { type: 'gaussian', hidden: [4] }, likelihood: { type: 'bernoulli', hidden: [5] } });
    const x = tf.tensor2d([[1, 0, 1, 1, 0, 0], [0.2, 0.9, 0, 1, 0.5, 1]]);
    const z = vae.random.normal<tf.Rank.R3>([4, 2, 3]);
    const got = vae.likelihood.logProb(x, z).arraySync();
    const p = vae.likelihood.mean(z).arraySync();
    const xs = x.arraySync();
    for (let k = 0; k < 4; k++)
      for (let b = 0; b < 2; b++) {
        let bce = 0;
        for (let j = 0; j < 6; j++) bce += -(xs[b]![j]! * Math.log(p[k]![b]![j]!) + (1 - xs[b]![j]!) * Math.log(1 - p[k]![b]![j]!));
        expect(got[k]![b]!).toBeCloseTo(-bce, 3);
      }
    vae.dispose();
  });

  it('stays finite for logits of ±1e4', () => {
    const vae = createVae({ latentDim: 2, dataDim: 3, encoder: { type: 'gaussian', hidden: [] }, likelihood: { type: 'bernoulli', hidden: [] } });
    setAll(vae, 'likelihood/net/0/kernel', (s) => tf.fill(s, 1e4));
    const lp = vae.likelihood.logProb(tf.tensor2d([[1, 0, 1]]), tf.tensor3d([[[1, 1]]])).dataSync();
    // logits are +2e4 for every pixel: log p = log σ(2e4)·2 + log(1 − σ(2e4)) = −2e4 exactly.
    expect(lp[0]).toBeCloseTo(-2e4, 0);
    vae.dispose();
  });

  it('rejects data outside [0, 1] with the row, column and value', () => {
    const vae = createVae({ latentDim: 2, dataDim: 3, encoder: { type: 'gaussian', hidden: [] }, likelihood: { type: 'bernoulli', hidden: [] } });
    expect(() => vae.likelihood.validateData!(new Float32Array([0, 1, 0.5, 0, 1.5, 0]), 3)).toThrow(/\[0, 1\]; got 1\.5 at row 1, column 1/);
    vae.dispose();
  });
});
