import { checkPositiveInt } from '../core/checks.js';
import { tf } from '../core/tf.js';
import type { Dataset } from '../data/dataset.js';
import { Random } from '../core/random.js';
import { datasetTensor } from '../data/batches.js';

/** What the evaluation functions accept: a data set, or rows already as a `[N, P]` tensor. */
export type EvalData = Dataset | tf.Tensor2D;

function isTensor(data: EvalData): data is tf.Tensor2D {
  return data instanceof tf.Tensor;
}

/** Number of rows N. */
export function rowCount(data: EvalData): number {
  return isTensor(data) ? data.shape[0] : data.rows;
}

/** Width P of a row. */
export function rowWidth(data: EvalData): number {
  return isTensor(data) ? data.shape[1] : data.dim;
}

export interface RowBatch {
  /** Rows `[start, end)`, `[end − start, P]`; owned by the caller of `next()` until the next batch. */
  x: tf.Tensor2D;
  start: number;
  end: number;
}

/**
 * The rows of `data` in consecutive batches of `batchSize` (the last may be smaller), in order.
 * A data set with `binarize: 'dynamic'` is binarised once, row by row, from a generator seeded
 * with `binarizeSeed` (default 0), so every evaluation of the same set sees the same binary
 * rows whatever the batch size — the usual "stochastically binarised test set". Each yielded
 * tensor is disposed when the generator moves on (or finishes), so do not keep it.
 */
export function* rowBatches(data: EvalData, batchSize: number, { binarizeSeed = 0 }: { binarizeSeed?: number } = {}): Generator<RowBatch> {
  checkPositiveInt('batchSize', batchSize);
  const n = rowCount(data);
  const p = rowWidth(data);
  const random = !isTensor(data) && data.binarize === 'dynamic' ? new Random(binarizeSeed) : null;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    let x: tf.Tensor2D;
    if (isTensor(data)) {
      x = tf.slice(data, [start, 0], [end - start, p]);
    } else {
      x = datasetTensor(data, { start, end, ...(random ? { random } : {}) });
    }
    try {
      yield { x, start, end };
    } finally {
      x.dispose();
    }
  }
}
