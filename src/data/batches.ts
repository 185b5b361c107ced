import { checkPositiveInt, markFinite } from '../core/checks.js';
import { tf } from '../core/tf.js';
import type { Random } from '../core/random.js';
import type { Dataset } from './dataset.js';
import { checkFinite } from './validate.js';

export interface BatchOptions {
  /** Rows per batch; the last batch holds the remainder (may be smaller). */
  batchSize: number;
  /** The stream that orders rows and draws the dynamic binarisation. */
  random: Random;
  /** Visit rows in a random order (a fresh permutation per call). Default true. */
  shuffle?: boolean;
}

function checkRange(data: Dataset, start: number, end: number, what: string): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > data.rows || start > end) {
    throw new Error(`${what}: expected 0 ≤ start ≤ end ≤ ${data.rows} (rows of '${data.name}'); got start ${start}, end ${end}`);
  }
}

/**
 * Copies rows `order[from … to−1]` of `data` into one Float32Array, binarising them with fresh
 * Bernoulli draws x̃ = [u < x], u ~ U[0, 1) from `random` when the set is dynamically binarised.
 */
function gatherRows(data: Dataset, order: Int32Array | null, from: number, to: number, random: Random | undefined): Float32Array {
  const p = data.dim;
  const out = new Float32Array((to - from) * p);
  for (let r = from; r < to; r++) {
    const src = order ? order[r]! : r;
    out.set(data.x.subarray(src * p, (src + 1) * p), (r - from) * p);
  }
  if (data.binarize === 'dynamic') {
    if (!random) {
      throw new Error(`'${data.name}' is dynamically binarised: pass { random } to draw its binarisation`);
    }
    for (let i = 0; i < out.length; i++) out[i] = random.uniform() < out[i]! ? 1 : 0;
  }
  return out;
}

/**
 * One epoch of mini-batches `[b, P]` (b = batchSize, the last batch the remainder). Each yielded
 * tensor belongs to the caller (dispose it). With `shuffle`, the order is `random.permutation(rows)`,
 * drawn when `batches` is called (options are checked then too); a dynamically binarised set then
 * draws one uniform per value of each batch, in batch order, from the same `random` as each batch
 * is made (Salakhutdinov & Murray 2008 style resampling). Both depend only on the Random's state,
 * so restoring `random.getState()` at an epoch boundary reproduces the epoch exactly (a resumed
 * run equals an uninterrupted one).
 */
export function batches(data: Dataset, { batchSize, random, shuffle = true }: BatchOptions): Generator<tf.Tensor2D> {
  checkPositiveInt('batchSize', batchSize);
  if (data.rows * data.dim !== data.x.length) {
    throw new Error(`'${data.name}': ${data.rows} rows × ${data.dim} columns need ${data.rows * data.dim} values; x holds ${data.x.length}`);
  }
  checkFinite(data);
  const order = shuffle ? random.permutation(data.rows) : null;
  return batchGenerator(data, order, batchSize, random);
}

function* batchGenerator(data: Dataset, order: Int32Array | null, batchSize: number, random: Random): Generator<tf.Tensor2D> {
  for (let from = 0; from < data.rows; from += batchSize) {
    const to = Math.min(from + batchSize, data.rows);
    const values = gatherRows(data, order, from, to, random);
    yield markFinite(tf.tensor2d(values, [to - from, data.dim], 'float32'));
  }
}

/** The number of batches `batches` yields for `rows` rows: ⌈rows / batchSize⌉. */
export function batchCount(rows: number, batchSize: number): number {
  return Math.ceil(rows / batchSize);
}

/**
 * Rows `start … end−1` of a set as one caller-owned tensor `[end − start, P]`, in order. A
 * dynamically binarised set is binarised once with draws from `random` (required for it).
 */
export function datasetTensor(
  data: Dataset,
  { random, start = 0, end = data.rows }: { random?: Random; start?: number; end?: number } = {},
): tf.Tensor2D {
  checkRange(data, start, end, 'datasetTensor');
  checkFinite(data);
  return markFinite(tf.tensor2d(gatherRows(data, null, start, end, random), [end - start, data.dim], 'float32'));
}

/** Rows `start … end−1` of a set, as a view on the same memory (no copy); labels follow. */
export function subset(data: Dataset, start: number, end: number): Dataset {
  checkRange(data, start, end, 'subset');
  const out: Dataset = {
    ...data,
    x: data.x.subarray(start * data.dim, end * data.dim),
    rows: end - start,
    ...(data.labels ? { labels: data.labels.subarray(start, end) } : {}),
  };
  return out;
}

/** The first `n` rows of a set (all of them when it has fewer). */
export function takeRows(data: Dataset, n: number): Dataset {
  if (!Number.isInteger(n) || n < 0) throw new Error(`takeRows: expected a non-negative integer; got ${n}`);
  return subset(data, 0, Math.min(n, data.rows));
}
