/**
 * Encoder-only training on a fixed-decoder model, full batch, Adam, for any per-row bound
 * (ELBO, IWAE_K, the mixture's stratified SIELBO / SIWAE_K): the decoder has no variables, so the
 * same loop serves every objective of the multimodal bench.
 */
import { tf } from '../plugins/index.js';
import type { Dataset, Vae } from '../plugins/index.js';
import { stratifiedElbo, stratifiedIwae } from '../plugins/mixture-encoder/stratified-bounds.js';

/** An objective of the bench: its name in tables, and the per-row bound `[B]` it maximises. */
export interface BenchObjective {
  name: string;
  bound(vae: Vae, x: tf.Tensor2D): tf.Tensor1D;
  /** Only for the mixture encoder. */
  mixtureOnly?: boolean;
}

/** `elbo`, `iwae:K`, `sielbo`, `siwae:K` (`sielbo:K` averages K draws per component). */
export function parseObjective(spec: string): BenchObjective {
  const [type, k] = spec.split(':');
  const samples = k === undefined ? 1 : Number(k);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`objective "${spec}": expected a positive integer K after ":"; got ${JSON.stringify(k)}`);
  switch (type) {
    case 'elbo':
      return { name: samples === 1 ? 'ELBO' : `ELBO (K=${samples})`, bound: (v, x) => v.elbo(x, { samples }).elbo };
    case 'iwae':
      return { name: `IWAE_${samples}`, bound: (v, x) => v.iwae(x, { samples }) };
    case 'sielbo':
      return { name: samples === 1 ? 'SIELBO' : `SIELBO (K=${samples})`, bound: (v, x) => stratifiedElbo(v, x, { samples }), mixtureOnly: true };
    case 'siwae':
      return { name: `SIWAE_${samples}`, bound: (v, x) => stratifiedIwae(v, x, { samples }), mixtureOnly: true };
    default:
      throw new Error(`objective "${spec}": expected elbo, iwae:K, sielbo or siwae:K`);
  }
}

/** `steps` full-batch Adam steps on the encoder's variables, maximising the mean bound. Returns the last loss. */
export function trainEncoder(vae: Vae, data: Dataset, objective: BenchObjective, { steps, learningRate }: { steps: number; learningRate: number }): number {
  const x = tf.tensor2d(data.x, [data.rows, data.dim]);
  const vars = vae.variables(['encoder']).map((v) => v.variable);
  const adam = tf.train.adam(learningRate);
  let last = NaN;
  try {
    for (let s = 0; s < steps; s++) {
      const loss = adam.minimize(() => tf.neg(tf.mean(objective.bound(vae, x))) as tf.Scalar, s === steps - 1, vars);
      if (loss) {
        last = loss.dataSync()[0]!;
        loss.dispose();
      }
    }
  } finally {
    x.dispose();
    adam.dispose();
  }
  if (!Number.isFinite(last)) throw new Error(`training with ${objective.name} ended with a non-finite loss (${last})`);
  return last;
}
