import { describe, expect, it } from 'vitest';
import { createVae, tf } from '../../plugins/index.js';
import { MAX_TENSOR_BYTES } from '../../src/core/checks.js';

const model = { latentDim: 2, dataDim: 4, encoder: { type: 'gaussian', hidden: [3] }, likelihood: { type: 'bernoulli', hidden: [3] } };

describe('the bound functions refuse bad input with a clear message', () => {
  it('a NaN or Infinity in x: elbo, iwae and logWeights name the row, the column and the value', () => {
    const vae = createVae(model);
    const x = tf.tensor2d([[0, 1, 0, 1], [1, 0, NaN, 0], [0, 0, 0, Infinity]]);
    expect(() => vae.elbo(x)).toThrow('x: row 1, column 2: expected a finite value; got NaN');
    expect(() => vae.iwae(x, { samples: 3 })).toThrow('x: row 1, column 2: expected a finite value; got NaN');
    const inf = tf.tensor2d([[0, 0, 0, Infinity]]);
    expect(() => vae.logWeights(inf)).toThrow('x: row 0, column 3: expected a finite value; got Infinity');
    tf.dispose([x, inf]);
    vae.dispose();
  });

  it('beta NaN, Infinity or −1 in elbo is refused, showing the value', () => {
    const vae = createVae(model);
    const x = tf.zeros([2, 4]) as tf.Tensor2D;
    for (const beta of [NaN, Infinity, -1]) expect(() => vae.elbo(x, { beta })).toThrow(`beta: expected a finite number ≥ 0 (the weight of the KL term); got ${beta}`);
    const before = tf.memory().numTensors;
    tf.dispose(Object.values(vae.elbo(x, { beta: 0.5 })).filter((v) => v instanceof tf.Tensor));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    vae.dispose();
  });

  it('a disposed tensor or a disposed model: a message saying so, not a TypeError about `backend`', () => {
    const vae = createVae(model);
    const x = tf.zeros([2, 4]) as tf.Tensor2D;
    x.dispose();
    expect(() => vae.elbo(x)).toThrow('x: the tensor has been disposed');
    expect(() => vae.iwae(x)).toThrow('x: the tensor has been disposed');
    expect(() => vae.setWeights({ 'encoder/0/kernel': x }, { strict: false })).toThrow('setWeights: "encoder/0/kernel": the tensor has been disposed');
    vae.dispose();
    vae.dispose(); // a second dispose does nothing
    expect(vae.isDisposed).toBe(true);
    const y = tf.zeros([2, 4]) as tf.Tensor2D;
    for (const call of [() => vae.elbo(y), () => vae.iwae(y), () => vae.sample(2), () => vae.reconstruct(y), () => vae.getWeights()]) {
      expect(call).toThrow('Vae: the model has been disposed (its weights are freed); build or load it again');
    }
    y.dispose();
  });

  it('a sample count whose tensors cannot fit is refused before anything is allocated, with the bytes it needs', () => {
    const vae = createVae(model);
    const before = tf.memory().numTensors;
    // 1e9 samples × max(P = 4, D = 2) float32 values = 1.6e10 bytes.
    expect(() => vae.sample(1e9)).toThrow('sample: 1000000000 samples: [1000000000 × 4] float32 values need 16.0 GB (1.600e+10 bytes); at most 2.1 GB fit');
    const x = tf.zeros([10, 4]) as tf.Tensor2D;
    expect(() => vae.elbo(x, { samples: 1e8 })).toThrow(/^samples: 100000000 samples × 10 rows: \[100000000 × 10 × 4\] float32 values need 16\.0 GB/);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // The largest count that fits is accepted by the check (not drawn here).
    expect(Math.floor(MAX_TENSOR_BYTES / 16)).toBeGreaterThan(1e8);
    vae.dispose();
  });
});
