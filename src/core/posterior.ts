import type { tf } from './tf.js';

/**
 * A closed-form description of q(z|x) for KL rules. `kind` names the family; `params` holds
 * its per-row parameters, each `[B, D]`.
 *
 * The built-in kind is `diagonal-gaussian` with params `mean` and `logStd`.
 */
export interface Posterior {
  kind: string;
  params: Record<string, tf.Tensor2D>;
}

export const DIAGONAL_GAUSSIAN = 'diagonal-gaussian';

export function diagonalGaussian(mean: tf.Tensor2D, logStd: tf.Tensor2D): Posterior {
  return { kind: DIAGONAL_GAUSSIAN, params: { mean, logStd } };
}
