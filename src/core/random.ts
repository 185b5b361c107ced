import { boxMullerKernel } from '../backend/box-muller.js';
import { tf } from './tf.js';

/**
 * A seeded source of randomness shared by everything that samples: encoders (ε for the
 * reparameterisation trick), data binarisation, shuffling and weight initialisation.
 *
 * Numbers come from a JS generator (mulberry32 + Box–Muller), not from the backend, so a
 * seed gives the same stream on every backend and the stream does not depend on how a
 * caller chunks its requests: `normal([2, B, D])` then `normal([3, B, D])` yields the same
 * values as one `normal([5, B, D])`. That is what makes the streamed log-likelihood estimate
 * independent of its chunk size and a resumed run identical to an uninterrupted one.
 */
/** Rows `start … end−1` of a batch of `rows` (see `Random.shareRows`). */
export interface RowShare {
  start: number;
  end: number;
  rows: number;
}

/** mulberry32: the generator's state advances by STEP per draw; `uniformOf` maps a state to [0, 1). */
const STEP = 0x6d2b79f5;
function uniformOf(state: number): number {
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export class Random {
  private state: number;
  private spare: number | null = null;
  private share: RowShare | null = null;

  constructor(seed = 1) {
    this.state = seed >>> 0;
  }

  /** Restart the stream from `seed`. */
  reseed(seed: number): void {
    this.state = seed >>> 0;
    this.spare = null;
  }

  /** The generator's state, for checkpoints. */
  getState(): { state: number; spare: number | null } {
    return { state: this.state, spare: this.spare };
  }

  setState(s: { state: number; spare: number | null }): void {
    this.state = s.state >>> 0;
    this.spare = s.spare;
  }

  /** A derived generator with its own stream (for a sub-task that must not disturb this one). */
  fork(salt: number): Random {
    return new Random((Math.imul(this.state ^ 0x9e3779b9, 0x85ebca6b) + salt) >>> 0);
  }

  /**
   * Splits the rows of every `normal` draw between threads (data-parallel training): while a
   * share `{ start, end, rows }` is set, `normal(shape)` with `end − start` on axis −2 (the batch
   * axis of `[K, B, D]` and `[B, D]`) draws the full shape with `rows` there, in the usual order,
   * and returns rows `start … end−1` of it. Each thread of a split batch thus gets its rows of
   * the single-thread draws and the stream advances as it would on one thread. The other
   * methods throw while a share is set (their values have no batch axis to split). `null` ends it.
   */
  shareRows(share: RowShare | null): void {
    if (share && !(Number.isInteger(share.start) && Number.isInteger(share.end) && Number.isInteger(share.rows) && share.start >= 0 && share.start < share.end && share.end <= share.rows)) {
      throw new Error(`Random.shareRows: expected integers 0 ≤ start < end ≤ rows; got ${JSON.stringify(share)}`);
    }
    this.share = share;
  }

  private unshared(method: string): void {
    if (this.share) {
      throw new Error(`Random.${method}: not available while rows are shared between threads (parallel training draws only normal([K, B, D]) or normal([B, D]))`);
    }
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.unshared('uniform');
    return this.nextUniform();
  }

  private nextUniform(): number {
    this.state = (this.state + STEP) >>> 0;
    return uniformOf(this.state);
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  gaussian(): number {
    this.unshared('gaussian');
    return this.nextGaussian();
  }

  private nextGaussian(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.nextUniform();
    const v = this.nextUniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    this.unshared('fillNormal');
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.nextGaussian();
    return out;
  }

  fillUniform(out: Float32Array): Float32Array {
    this.unshared('fillUniform');
    for (let i = 0; i < out.length; i++) out[i] = this.nextUniform();
    return out;
  }

  /**
   * Fills `out` with the next `out.length` standard normals: the values and end state of as many
   * `nextGaussian` calls. Whole pairs come from the WebAssembly kernel where it loads
   * (`boxMullerKernel`: the same float32 values and states, 19.5 instead of 32 ns a value); the
   * rest from the loop below (the same float64 operations on the same uniforms as `nextGaussian`),
   * with the generator's state in a local and both values of each Box–Muller pair written at once
   * (27 instead of 37 ns a value; the log, sin and cos are most of what is left).
   */
  private fillGaussians(out: Float32Array): void {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.spare !== null) {
      out[i++] = this.spare;
      this.spare = null;
    }
    const kernel = n - i >= 2 ? boxMullerKernel() : null;
    if (kernel) {
      const pairs = (n - i) >> 1;
      this.state = kernel.fill(out.subarray(i, i + 2 * pairs), this.state);
      i += 2 * pairs;
    }
    let state = this.state;
    while (i < n) {
      let u = 0;
      while (u === 0) {
        state = (state + STEP) >>> 0;
        u = uniformOf(state);
      }
      state = (state + STEP) >>> 0;
      const v = uniformOf(state);
      const r = Math.sqrt(-2 * Math.log(u));
      out[i++] = r * Math.cos(2 * Math.PI * v);
      if (i < n) out[i++] = r * Math.sin(2 * Math.PI * v);
      else this.spare = r * Math.sin(2 * Math.PI * v);
    }
    this.state = state;
  }

  /** A tensor of standard normals with the given shape (this thread's rows of it under `shareRows`). */
  normal<R extends tf.Rank = tf.Rank>(shape: readonly number[]): tf.Tensor<R> {
    const n = shape.reduce((a, b) => a * b, 1);
    if (!this.share) {
      const out = new Float32Array(n);
      this.fillGaussians(out);
      return tf.tensor(out, shape as number[], 'float32') as unknown as tf.Tensor<R>;
    }
    const { start, end, rows } = this.share;
    const axis = shape.length - 2;
    if (axis < 0 || shape[axis] !== end - start) {
      throw new Error(`Random.normal: rows ${start}…${end - 1} of ${rows} are shared, so axis −2 of the shape must be ${end - start}; got [${shape.join(', ')}]`);
    }
    const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = shape[axis + 1]!;
    // The full draw, then this thread's rows of it.
    const full = new Float32Array(outer * rows * inner);
    this.fillGaussians(full);
    const out = new Float32Array(n);
    for (let k = 0; k < outer; k++) out.set(full.subarray((k * rows + start) * inner, (k * rows + end) * inner), k * (end - start) * inner);
    return tf.tensor(out, shape as number[], 'float32') as unknown as tf.Tensor<R>;
  }

  /** Fisher–Yates permutation of 0..n−1. */
  permutation(n: number): Int32Array {
    this.unshared('permutation');
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.nextUniform() * (i + 1));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}
