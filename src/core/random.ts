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
export class Random {
  private state: number;
  private spare: number | null = null;

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

  /** Uniform in [0, 1). */
  uniform(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  gaussian(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.gaussian();
    return out;
  }

  fillUniform(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform();
    return out;
  }

  /** A tensor of standard normals with the given shape. */
  normal<R extends tf.Rank = tf.Rank>(shape: readonly number[]): tf.Tensor<R> {
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(this.fillNormal(new Float32Array(n)), shape as number[], 'float32') as unknown as tf.Tensor<R>;
  }

  /** Fisher–Yates permutation of 0..n−1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}
