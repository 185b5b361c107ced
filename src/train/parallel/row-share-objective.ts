import { tf } from '../../core/tf.js';
import type { Objective } from '../../core/objective.js';
import type { RowShare } from '../../core/random.js';

/**
 * An objective scaled to one thread's share of a batch: rows `start … end−1` of B, so its loss
 * (and encoder surrogate) is the objective's mean over those rows times (end − start)/B. The
 * shares of a split batch then sum to the whole batch's loss and gradient (for an objective that
 * is a mean of per-row terms). The bound per row is unchanged.
 */
export function rowShareObjective(objective: Objective, share: RowShare): Objective {
  const scale = (share.end - share.start) / share.rows;
  return {
    name: objective.name,
    label: objective.label,
    separateEncoderLoss: objective.separateEncoderLoss,
    compute: (vae, x, ctx) => {
      const r = objective.compute(vae, x, ctx);
      return {
        bound: r.bound,
        loss: tf.mul(r.loss, scale) as tf.Scalar,
        ...(r.encoderLoss ? { encoderLoss: tf.mul(r.encoderLoss, scale) as tf.Scalar } : {}),
      };
    },
  };
}
