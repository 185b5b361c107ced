import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';
import { loadMnist, mnistFolder } from '../../src/data/mnist.js';
import { readIdx } from '../../src/data/idx.js';
import { join } from 'node:path';

/** How many entries differ (cheaper than a deep equality on a million-entry array). */
function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

function mean(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

describe('loadMnist', () => {
  it('loads 60,000 training rows of 784 intensities in [0, 1] with their labels', () => {
    const train = loadMnist({ split: 'train', binarize: 'none' });
    expect(train.name).toBe('mnist');
    expect([train.rows, train.dim, train.x.length]).toEqual([60000, 784, 60000 * 784]);
    expect(train.imageShape).toEqual([28, 28]);
    expect(train.binarize).toBe('none');
    expect(Array.from(train.labels!.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    const x = train.x;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
    // The well-known MNIST mean intensity 0.1307 (33.32/255).
    expect(mean(train.x)).toBeCloseTo(0.13066, 4);
    // Row 5 of the first image (a 5) starts at column 12 with bytes 3, 18, 18, 18, 126, 136, 175.
    expect(Array.from(train.x.subarray(5 * 28 + 12, 5 * 28 + 19), (v) => Math.round(v * 255))).toEqual([3, 18, 18, 18, 126, 136, 175]);
    expect(train.x[5 * 28 + 16]).toBeCloseTo(126 / 255, 7);
  });

  it('loads 10,000 test rows whose first label is 7', () => {
    const test = loadMnist({ split: 'test', binarize: 'none' });
    expect([test.rows, test.dim]).toEqual([10000, 784]);
    expect(Array.from(test.labels!.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });

  it('takes a window of rows with limit and offset', () => {
    const a = loadMnist({ split: 'train', limit: 20, binarize: 'none' });
    const b = loadMnist({ split: 'train', offset: 10, limit: 5, binarize: 'none' });
    expect(a.rows).toBe(20);
    expect(Array.from(b.x)).toEqual(Array.from(a.x.subarray(10 * 784, 15 * 784)));
    expect(Array.from(b.labels!)).toEqual(Array.from(a.labels!.subarray(10, 15)));
  });

  it('binarises statically with new Random(seed).fork(1) for train, one uniform per pixel', () => {
    const seed = 7;
    const s = loadMnist({ split: 'train', limit: 3, binarize: 'static', seed });
    const raw = readIdx(join(mnistFolder(), 'train-images-idx3-ubyte'), { rows: [0, 3] }).data;
    const random = new Random(seed).fork(1);
    const expected = Array.from({ length: 3 * 784 }, (_, i) => (random.uniform() < raw[i]! / 255 ? 1 : 0));
    expect(mismatches(s.x, expected)).toBe(0);
    expect(s.x.reduce((a, v) => a + v, 0)).toBeGreaterThan(300); // the draw is not all zeros
    expect(s.binarize).toBe('static');
  });

  it('reproduces a static binarisation from its seed, whatever the window', () => {
    const a = loadMnist({ split: 'train', limit: 2000, binarize: 'static', seed: 3 });
    const b = loadMnist({ split: 'train', limit: 2000, binarize: 'static', seed: 3 });
    const c = loadMnist({ split: 'train', limit: 2000, binarize: 'static', seed: 4 });
    const w = loadMnist({ split: 'train', offset: 1500, limit: 10, binarize: 'static', seed: 3 });
    expect(mismatches(b.x, a.x)).toBe(0);
    expect(mismatches(w.x, a.x.subarray(1500 * 784, 1510 * 784))).toBe(0);
    const differ = mismatches(a.x, c.x);
    // Pixels with 0 < p < 1 flip between seeds with probability 2p(1 − p): thousands of them.
    expect(differ).toBeGreaterThan(10000);
    let nonBinary = 0;
    for (let i = 0; i < a.x.length; i++) if (a.x[i] !== 0 && a.x[i] !== 1) nonBinary++;
    expect(nonBinary).toBe(0);
  });

  it('binarises with a mean within 4 standard errors of the mean intensity', () => {
    const intensities = loadMnist({ split: 'train', limit: 2000, binarize: 'none' });
    const bin = loadMnist({ split: 'train', limit: 2000, binarize: 'static', seed: 11 });
    let variance = 0;
    for (const p of intensities.x) variance += p * (1 - p);
    const se = Math.sqrt(variance) / intensities.x.length;
    const gap = Math.abs(mean(bin.x) - mean(intensities.x));
    expect(se).toBeLessThan(3e-4);
    expect(gap).toBeLessThan(4 * se);
  });

  it('gives the test split a different static stream than the train split', () => {
    // Same seed, same pixel intensities would give identical draws if the streams were shared:
    // compare the uniforms each split uses for its first pixels.
    const u1 = new Random(5).fork(1).uniform();
    const u2 = new Random(5).fork(2).uniform();
    expect(u1).not.toBe(u2);
    const test = loadMnist({ split: 'test', limit: 2, binarize: 'static', seed: 5 });
    const raw = readIdx(join(mnistFolder(), 't10k-images-idx3-ubyte'), { rows: [0, 2] }).data;
    const random = new Random(5).fork(2);
    const expected = Array.from({ length: 2 * 784 }, (_, i) => (random.uniform() < raw[i]! / 255 ? 1 : 0));
    expect(mismatches(test.x, expected)).toBe(0);
  });

  it('keeps intensities for dynamic binarisation (drawn per batch later)', () => {
    const d = loadMnist({ split: 'test', limit: 10 });
    expect(d.binarize).toBe('dynamic');
    expect(d.x.some((v) => v > 0 && v < 1)).toBe(true);
  });

  it('rejects bad options with the field, the value and the expectation', () => {
    expect(() => loadMnist({ split: 'test', limit: 10001 })).toThrow('limit: the mnist test split has 10000 rows; got 10001');
    expect(() => loadMnist({ split: 'test', limit: 0 })).toThrow('limit: expected a positive integer; got 0');
    expect(() => loadMnist({ split: 'valid' as 'test' })).toThrow(`split: expected 'train' or 'test'; got "valid"`);
    expect(() => loadMnist({ split: 'test', binarize: 'yes' as 'none' })).toThrow(
      `binarize: expected 'dynamic', 'static' or 'none'; got "yes"`,
    );
  });
});
