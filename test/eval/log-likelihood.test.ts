import { describe, expect, it } from 'vitest';
import { createVae, tf } from '../../plugins/index.js';
import { estimateLogLikelihood, LogMeanExpAccumulator } from '../../src/eval/log-likelihood.js';
import { Random } from '../../src/core/random.js';

function smallVae(dataDim: number, seed = 2) {
  return createVae(
    {
      latentDim: 3,
      dataDim,
      encoder: { type: 'gaussian', hidden: [16], activation: 'tanh' },
      prior: { type: 'standard-normal' },
      likelihood: { type: 'bernoulli', hidden: [16], activation: 'tanh' },
    },
    { seed },
  );
}

function binaryRows(n: number, p: number, seed: number): tf.Tensor2D {
  const r = new Random(seed);
  const v = new Float32Array(n * p);
  for (let i = 0; i < v.length; i++) v[i] = r.uniform() < 0.3 ? 1 : 0;
  return tf.tensor2d(v, [n, p]);
}

describe('LogMeanExpAccumulator', () => {
  it('equals log-mean-exp computed in one go, for groups and for any chunking', () => {
    const b = 3;
    const k = 12;
    const r = new Random(5);
    const a = Float64Array.from({ length: k * b }, () => 50 * r.gaussian() - 300);
    const direct = (rows: number[], g: number) =>
      rows.map((i) => {
        let tot = 0;
        for (let s = 0; s + g <= k; s += g) {
          const vals = Array.from({ length: g }, (_, j) => a[(s + j) * b + i]!);
          const m = Math.max(...vals);
          tot += m + Math.log(vals.reduce((acc, v) => acc + Math.exp(v - m), 0) / g);
        }
        return tot / Math.floor(k / g);
      });
    for (const g of [1, 4, 5, 12]) {
      for (const chunk of [1, 5, 12]) {
        const acc = new LogMeanExpAccumulator(b, g);
        for (let s = 0; s < k; s += chunk) {
          const c = Math.min(chunk, k - s);
          acc.push(a.subarray(s * b, (s + c) * b), c);
        }
        const got = Array.from(acc.value());
        direct([0, 1, 2], g).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 9));
      }
    }
  });

  it('ignores −∞ log-weights and propagates NaN', () => {
    const acc = new LogMeanExpAccumulator(2, 2);
    acc.push([-Infinity, NaN, Math.log(4), 0], 2);
    const v = acc.value();
    expect(v[0]).toBeCloseTo(Math.log(4 / 2), 12);
    expect(v[1]).toBeNaN();
  });
});

describe('estimateLogLikelihood', () => {
  it.each([
    { type: 'planar', steps: 3, hidden: [16] },
    { type: 'realnvp', couplings: 2, hidden: [16] },
    { type: 'hierarchical', hidden: [16], auxHidden: [8] },
    { type: 'two-level', sizes: [2, 2], hidden: [16] },
  ])('is chunk-size independent for every built-in encoder family ($type)', async (encoder) => {
    const latentDim = encoder.type === 'two-level' ? 4 : 3;
    const prior = encoder.type === 'two-level' ? { type: 'two-level', sizes: [2, 2] } : { type: 'standard-normal' };
    const vae = createVae({ latentDim, dataDim: 12, encoder, prior, likelihood: { type: 'bernoulli', hidden: [8] } }, { seed: 4 });
    const x = binaryRows(6, 12, 3);
    const a = await estimateLogLikelihood(vae, x, { samples: 60, chunk: 7, batchSize: 6, seed: 2, progress: false });
    const b = await estimateLogLikelihood(vae, x, { samples: 60, chunk: 60, batchSize: 6, seed: 2, progress: false });
    for (let i = 0; i < 6; i++) expect(Math.abs(a.perRow[i]! - b.perRow[i]!)).toBeLessThan(2e-4);
    x.dispose();
    vae.dispose();
  });

  it('gives the same value for every chunk size with a fixed seed', async () => {
    const vae = smallVae(20);
    const x = binaryRows(30, 20, 1);
    const runs = [];
    for (const chunk of [1, 7, 64, 200]) {
      runs.push(await estimateLogLikelihood(vae, x, { samples: 200, chunk, batchSize: 10, seed: 9, progress: false }));
    }
    for (const r of runs.slice(1)) {
      // float32 network values, float64 accumulation in sample order: agreement to float32 rounding.
      for (let i = 0; i < 30; i++) expect(Math.abs(r.perRow[i]! - runs[0]!.perRow[i]!)).toBeLessThan(2e-4);
      expect(Math.abs(r.mean - runs[0]!.mean)).toBeLessThan(1e-4);
    }
    // …and a different seed gives a different (but close) estimate, so the test can fail.
    const other = await estimateLogLikelihood(vae, x, { samples: 200, chunk: 64, batchSize: 10, seed: 10, progress: false });
    expect(other.perRow[0]).not.toBe(runs[0]!.perRow[0]);
    expect(Math.abs(other.mean - runs[0]!.mean)).toBeLessThan(0.5);
    expect(runs[0]!.samples).toBe(200);
    expect(runs[0]!.stdErr).toBeGreaterThan(0);
    x.dispose();
    vae.dispose();
  });

  it('uses memory bounded by one chunk for K = 5000 and leaks no tensors', async () => {
    const p = 200;
    const b = 10;
    const vae = smallVae(p);
    const x = binaryRows(b, p, 3);
    const tensorsBefore = tf.memory().numTensors;
    const peak = async (chunk: number) => {
      const bytesBefore = tf.memory().numBytes;
      const info = await tf.profile(async () => {
        await estimateLogLikelihood(vae, x, { samples: 5000, chunk, batchSize: b, seed: 1, progress: false });
        return [];
      });
      return info.peakBytes - bytesBefore;
    };
    const oneChunk = 100 * b * p * 4; // one [100, B, P] float32 tensor, bytes
    const allAtOnce = 5000 * b * p * 4; // one [K, B, P] tensor: 40 MB
    const p100 = await peak(100);
    const p25 = await peak(25);
    // Measured: ~9 chunk-sized intermediates of the Bernoulli log-density live at once (7.2 MB).
    expect(p100).toBeGreaterThan(oneChunk / 2);
    expect(p100).toBeLessThan(16 * oneChunk);
    expect(p100).toBeLessThan(allAtOnce / 4);
    // The peak follows the chunk, not K: a quarter of the chunk, about a quarter of the memory.
    expect(p25).toBeLessThan(0.4 * p100);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    x.dispose();
    vae.dispose();
  });
});
