import { Random, tf, type Dataset } from '../../plugins/index.js';

/** The benched model's sizes: 784-200-200-50, as in Burda et al. 2015 and the targets. */
export const LATENT = 50;
export const DIM = 784;
export const HIDDEN = [200, 200];

/** Binary rows with P(1) = 0.13 (about MNIST's share of ink), from a seed. */
export function binaryValues(rows: number, seed: number): Float32Array {
  const random = new Random(seed);
  const x = new Float32Array(rows * DIM);
  for (let i = 0; i < x.length; i++) x[i] = random.uniform() < 0.13 ? 1 : 0;
  return x;
}

export function binaryBatch(rows: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(binaryValues(rows, seed), [rows, DIM]);
}

/** An in-memory data set of `batches` copies of one binary batch (so every step sees the same rows). */
export function repeatedDataset(batch: number, batches: number, seed: number): Dataset {
  const one = binaryValues(batch, seed);
  const x = new Float32Array(one.length * batches);
  for (let i = 0; i < batches; i++) x.set(one, i * one.length);
  return { name: 'speed-bench', x, rows: batch * batches, dim: DIM, binarize: 'none' };
}
