import { tf } from './tf.js';

/**
 * Throws `${field}: expected a positive integer; got …` unless `v` is one; returns it.
 * The one check behind every sample count, batch size and grid size in the library.
 */
export function checkPositiveInt(field: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new Error(`${field}: expected a positive integer; got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
  }
  return v as number;
}

/**
 * The most bytes one float32 tensor (or one typed array) may take: 2 GiB. The wasm backend's
 * whole heap is a 32-bit memory, and a larger request ends in a raw `RangeError` or a swap storm
 * long after the mistake (a latent size or sample count off by a factor of 10⁶).
 */
export const MAX_TENSOR_BYTES = 2 ** 31;

/** Thrown before an allocation that cannot fit: names what, its size and the bytes it needs. */
export class SizeError extends Error {
  constructor(
    readonly what: string,
    readonly size: string,
    readonly bytes: number,
  ) {
    super(`${what}: ${size} float32 values need ${formatBytes(bytes)} (${bytes.toExponential(3)} bytes); at most ${formatBytes(MAX_TENSOR_BYTES)} fit`);
    this.name = 'SizeError';
  }
}

/** Bytes in units of 1000 (kB, MB, GB, TB, PB). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

/**
 * Throws a SizeError, before anything is allocated, when a float32 tensor of `shape` would need
 * more than MAX_TENSOR_BYTES; returns its element count otherwise.
 */
export function checkTensorSize(what: string, shape: readonly number[]): number {
  const elements = shape.reduce((a, b) => a * b, 1);
  if (elements * 4 > MAX_TENSOR_BYTES) throw new SizeError(what, `[${shape.join(' × ')}]`, elements * 4);
  return elements;
}

/**
 * Checks a stack of dense layers of widths `sizes` (`[in, h₁, …, out]`) before any is made:
 * each weight matrix, and all of them together, within MAX_TENSOR_BYTES.
 */
export function checkLayerSizes(what: string, sizes: readonly number[]): void {
  let total = 0;
  for (let i = 0; i + 1 < sizes.length; i++) total += sizes[i]! * sizes[i + 1]! + sizes[i + 1]!;
  if (total * 4 > MAX_TENSOR_BYTES) throw new SizeError(what, `layers ${sizes.join(' → ')}: ${total}`, total * 4);
}

/** Throws `${what}: the tensor has been disposed` for a disposed tensor (tfjs would fail on `backend` of undefined). */
export function checkLive(t: tf.Tensor, what: string): void {
  if (t.isDisposed) throw new Error(`${what}: the tensor has been disposed (it was used after dispose() or outside the tf.tidy that made it)`);
}

/** Tensors whose values are known to be finite (see markFinite). */
const knownFinite = new WeakSet<tf.Tensor>();

/**
 * Records that every value of `t` is finite, so `checkFiniteRows` need not read it from the
 * backend: for batches copied from a data set that was checked in full on the CPU. Returns `t`.
 */
export function markFinite<T extends tf.Tensor>(t: T): T {
  knownFinite.add(t);
  return t;
}

/**
 * Throws `${what}: row r, column c: expected a finite value; got NaN` unless every value of
 * `x` `[B, P]` is finite. Costs one read of B flags from the backend, skipped for a tensor
 * marked with `markFinite` (the batches of training and evaluation) or one that passed before.
 */
export function checkFiniteRows(x: tf.Tensor2D, what: string): void {
  if (knownFinite.has(x)) return;
  const rowOk = tf.tidy(() => tf.all(tf.isFinite(x), 1));
  const flags = rowOk.dataSync();
  rowOk.dispose();
  const row = flags.findIndex((f) => !f);
  if (row < 0) {
    knownFinite.add(x);
    return;
  }
  const rowValues = tf.slice(x, [row, 0], [1, -1]);
  const values = rowValues.dataSync();
  rowValues.dispose();
  const col = values.findIndex((v) => !Number.isFinite(v));
  throw new Error(`${what}: row ${row}, column ${col}: expected a finite value; got ${values[col]}`);
}
