import { tf } from '../core/tf.js';
import type { Random } from '../core/random.js';
import type { Vae } from '../core/vae.js';
import type { Dataset } from '../data/dataset.js';
import { datasetTensor } from '../data/batches.js';

export interface Objective {
  type: 'elbo' | 'iwae';
  /** K, samples per row. */
  samples?: number;
}

/** The per-batch training loss: −mean over rows of the β-weighted ELBO or of IWAE_K. */
export function trainingLoss(vae: Vae, x: tf.Tensor2D, objective: Required<Objective>, beta: number, freeBits = 0): tf.Scalar {
  return tf.tidy(() => {
    if (objective.type === 'iwae') return tf.neg(tf.mean(vae.iwae(x, { samples: objective.samples })));
    const r = vae.elbo(x, { samples: objective.samples });
    let kl: tf.Tensor = tf.mean(r.kl);
    if (freeBits > 0) kl = tf.maximum(kl, freeBits * vae.latentDim);
    return tf.neg(tf.sub(tf.mean(r.reconstruction), tf.mul(kl, beta)));
  }) as tf.Scalar;
}

/** Mean ELBO over `data` (batched), nats. */
export function meanElbo(vae: Vae, data: Dataset, { samples = 1, batchSize = 500, random }: { samples?: number; batchSize?: number; random?: Random } = {}): number {
  let total = 0;
  for (let start = 0; start < data.rows; start += batchSize) {
    const end = Math.min(data.rows, start + batchSize);
    const x = datasetTensor(data, { start, end, ...(random ? { random } : {}) });
    const s = tf.tidy(() => tf.sum(vae.elbo(x, { samples }).elbo));
    total += s.dataSync()[0]!;
    s.dispose();
    x.dispose();
  }
  return total / data.rows;
}
