import { describe, expect, it } from 'vitest';
import { Random, tf } from '../../plugins/index.js';
import type { Dataset } from '../../src/index.js';
import { estimatorSnrChart, formatEstimatorSnr, runEstimatorSnr } from '../../bench/gradient-snr.js';

function binaryData(name: string, rows: number, dim: number, seed: number): Dataset {
  const r = new Random(seed);
  const x = Float32Array.from({ length: rows * dim }, (_, i) => (r.uniform() < 0.2 + 0.6 * ((i % dim) / dim) ? 1 : 0));
  return { name, x, rows, dim, binarize: 'none' };
}

describe('bench/gradient-snr', () => {
  it('measures SNR and variance per estimator and K; DReG equals STL at K = 1; leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const r = await runEstimatorSnr({
      data: { train: binaryData('toy', 40, 12, 1), batch: binaryData('toy', 6, 12, 2) },
      epochs: 1,
      ks: [1, 4],
      draws: 8,
      latentDim: 2,
      hidden: [6],
      progress: false,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.rows.map((w) => `${w.estimator}:${w.k}`)).toEqual(['reparam:1', 'reparam:4', 'stl:1', 'stl:4', 'dreg:1', 'dreg:4']);
    for (const w of r.rows) {
      expect(w.medianSnr).toBeGreaterThan(0);
      expect(w.totalVariance).toBeGreaterThan(0);
    }
    const at = (e: string, k: number) => r.rows.find((w) => w.estimator === e && w.k === k)!;
    // Same noise (the stream is reseeded per K), same surrogate gradient at K = 1.
    expect(at('dreg', 1).totalVariance).toBeCloseTo(at('stl', 1).totalVariance, 4);
    expect(at('dreg', 1).medianSnr).toBeCloseTo(at('stl', 1).medianSnr, 4);
    expect(formatEstimatorSnr(r)).toContain('| dreg | 4 |');
    expect(estimatorSnrChart(r).subarray(1, 4).toString()).toBe('PNG');
  });
});
