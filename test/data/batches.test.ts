import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Random } from '../../src/core/random.js';
import type { Dataset } from '../../src/data/dataset.js';
import { batchCount, batches, datasetTensor, subset, takeRows } from '../../src/data/batches.js';
import { loadMnist } from '../../src/data/mnist.js';

/** rows × dim values; column 0 holds the row index, the rest fixed intensities. */
function indexed(rows: number, dim: number, binarize: Dataset['binarize'] = 'none'): Dataset {
  const x = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    x[r * dim] = r;
    for (let c = 1; c < dim; c++) x[r * dim + c] = (c % 10) / 10;
  }
  return { name: 'indexed', x, rows, dim, labels: Uint8Array.from({ length: rows }, (_, i) => i % 10), binarize };
}

/** Column 0 of every batch of one epoch, and the batch sizes; disposes the batches. */
function epoch(data: Dataset, batchSize: number, random: Random, shuffle = true): { order: number[]; sizes: number[] } {
  const order: number[] = [];
  const sizes: number[] = [];
  for (const b of batches(data, { batchSize, random, shuffle })) {
    const v = b.dataSync();
    sizes.push(b.shape[0]);
    expect(b.shape[1]).toBe(data.dim);
    for (let r = 0; r < b.shape[0]; r++) order.push(v[r * data.dim]!);
    b.dispose();
  }
  return { order, sizes };
}

describe('batches', () => {
  it('visits every row once per epoch, in batches with the remainder last', () => {
    const data = indexed(103, 3);
    const { order, sizes } = epoch(data, 25, new Random(1));
    expect(sizes).toEqual([25, 25, 25, 25, 3]);
    expect(batchCount(103, 25)).toBe(5);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    // Shuffled: far from the identity order.
    expect(order.filter((v, i) => v === i).length).toBeLessThan(10);
  });

  it('shuffles by the seed: same seed same order, other seed other order', () => {
    const data = indexed(50, 2);
    const a = epoch(data, 7, new Random(42)).order;
    const b = epoch(data, 7, new Random(42)).order;
    const c = epoch(data, 7, new Random(43)).order;
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(a).toEqual(Array.from(new Random(42).permutation(50)));
  });

  it('keeps file order when shuffle is off', () => {
    expect(epoch(indexed(10, 2), 4, new Random(1), false).order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('resumes an epoch exactly from a saved Random state', () => {
    const data = loadMnist({ split: 'train', limit: 300 });
    const random = new Random(9);
    const first = datasetTensorOfEpoch(data, random);
    const saved = random.getState();
    const second = datasetTensorOfEpoch(data, random);
    const resumed = new Random(12345);
    resumed.setState(saved);
    const again = datasetTensorOfEpoch(data, resumed);
    expect(mismatches(again, second)).toBe(0);
    expect(mismatches(second, first)).toBeGreaterThan(1000);
  });

  it('binarises dynamic sets afresh every epoch with the right mean', () => {
    const data = loadMnist({ split: 'train', limit: 2000 });
    expect(data.binarize).toBe('dynamic');
    const random = new Random(3);
    const e1 = datasetTensorOfEpoch(data, random, false);
    const e2 = datasetTensorOfEpoch(data, random, false);
    let differ = 0;
    let ones1 = 0;
    let nonBinary = 0;
    for (let i = 0; i < e1.length; i++) {
      if (e1[i] !== e2[i]) differ++;
      if (e1[i] !== 0 && e1[i] !== 1) nonBinary++;
      ones1 += e1[i]!;
    }
    expect(nonBinary).toBe(0);
    // Expected flips Σ 2p(1−p) over pixels: tens of thousands.
    let flips = 0;
    let variance = 0;
    let intensity = 0;
    for (const p of data.x) {
      flips += 2 * p * (1 - p);
      variance += p * (1 - p);
      intensity += p;
    }
    expect(differ).toBeGreaterThan(0.9 * flips);
    expect(differ).toBeLessThan(1.1 * flips);
    const se = Math.sqrt(variance) / data.x.length;
    expect(Math.abs(ones1 / data.x.length - intensity / data.x.length)).toBeLessThan(4 * se);
  });

  it('leaves no tensor behind once the caller disposes the batches', () => {
    const before = tf.memory().numTensors;
    epoch(indexed(40, 3), 16, new Random(2));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks its options when called', () => {
    expect(() => batches(indexed(4, 2), { batchSize: 0, random: new Random(1) })).toThrow('batchSize: expected a positive integer; got 0');
    expect(() => batches({ ...indexed(4, 2), rows: 5 }, { batchSize: 2, random: new Random(1) })).toThrow(
      "'indexed': 5 rows × 2 columns need 10 values; x holds 8",
    );
  });
});

function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** One epoch (shuffled unless told otherwise) as a flat array in visiting order. */
function datasetTensorOfEpoch(data: Dataset, random: Random, shuffle = true): Float32Array {
  const out = new Float32Array(data.x.length);
  let at = 0;
  for (const b of batches(data, { batchSize: 128, random, shuffle })) {
    out.set(b.dataSync() as Float32Array, at);
    at += b.size;
    b.dispose();
  }
  return out;
}

describe('datasetTensor, subset, takeRows', () => {
  it('returns rows start…end−1 as one tensor, unchanged for a non-binarised set', () => {
    const data = indexed(10, 3);
    const t = datasetTensor(data, { start: 2, end: 5 });
    expect(t.shape).toEqual([3, 3]);
    expect(Array.from(t.dataSync())).toEqual(Array.from(data.x.subarray(6, 15)));
    t.dispose();
  });

  it('binarises a dynamic set once with the given Random, and requires one', () => {
    const data = indexed(200, 11, 'dynamic');
    expect(() => datasetTensor(data)).toThrow("'indexed' is dynamically binarised: pass { random } to draw its binarisation");
    const a = datasetTensor(data, { random: new Random(5), start: 0, end: 200 });
    const b = datasetTensor(data, { random: new Random(5) });
    const va = a.dataSync();
    expect(Array.from(b.dataSync())).toEqual(Array.from(va));
    // Column 0 holds the row index (≥ 1 for rows > 0): always 1; column 5 has p = 0.5.
    let col5 = 0;
    for (let r = 0; r < 200; r++) {
      if (r > 0) expect(va[r * 11]).toBe(1);
      col5 += va[r * 11 + 5]!;
    }
    expect(col5 / 200).toBeGreaterThan(0.5 - 4 * Math.sqrt(0.25 / 200));
    expect(col5 / 200).toBeLessThan(0.5 + 4 * Math.sqrt(0.25 / 200));
    a.dispose();
    b.dispose();
  });

  it('takes subsets as views that keep their labels', () => {
    const data = indexed(10, 2);
    const s = subset(data, 3, 7);
    expect([s.rows, s.dim, s.x.length]).toEqual([4, 2, 8]);
    expect(s.x[0]).toBe(3);
    expect(Array.from(s.labels!)).toEqual([3, 4, 5, 6]);
    expect(s.x.buffer).toBe(data.x.buffer);
    expect(takeRows(data, 3).rows).toBe(3);
    expect(takeRows(data, 30).rows).toBe(10);
    expect(() => subset(data, 4, 11)).toThrow("subset: expected 0 ≤ start ≤ end ≤ 10 (rows of 'indexed'); got start 4, end 11");
    expect(() => datasetTensor(data, { start: 5, end: 4 })).toThrow(/datasetTensor: expected 0 ≤ start ≤ end ≤ 10/);
  });
});
