import { tf } from '../core/tf.js';
import type { Random } from '../core/random.js';
import type { Vae } from '../core/vae.js';
import type { Dataset } from '../data/dataset.js';
import { datasetTensor } from '../data/batches.js';
import { ElboObjective } from '../core/elbo-objective.js';
import { IwaeObjective } from '../core/iwae-objective.js';

/**
 * An objective as a config writes it: `{ "type": "iwae", "samples": 10, "gradient": "dreg" }`,
 * the options checked by the named objective plugin (see `Objective`).
 */
export interface ObjectiveSpec {
  type: string;
  /** K, samples per row. */
  samples?: number;
  [option: string]: unknown;
}

/**
 * The per-batch training loss of a built-in objective with the plain reparameterised gradient:
 * −mean over rows of the β-weighted ELBO or of IWAE_K (what the speed bench times).
 */
export function trainingLoss(vae: Vae, x: tf.Tensor2D, objective: { type: 'elbo' | 'iwae'; samples: number }, beta: number, freeBits = 0): tf.Scalar {
  const built =
    objective.type === 'iwae'
      ? new IwaeObjective({ samples: objective.samples, gradient: 'reparam' })
      : new ElboObjective({ samples: objective.samples, beta: 1, gradient: 'reparam' });
  return tf.tidy(() => built.compute(vae, x, { beta, freeBits, random: vae.random }).loss);
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
