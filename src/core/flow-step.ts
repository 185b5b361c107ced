import type { tf } from './tf.js';
import type { Parametrised } from './variables.js';

/** One invertible step and log|det ∂f/∂z| of each sample. */
export interface FlowResult {
  z: tf.Tensor3D;
  logDet: tf.Tensor2D;
}

export const FlowStep = Symbol.for('vaekit.FlowStep');
/**
 * An invertible map z_k = f(z_{k−1}; context) used by flow encoders. `context` is a per-row
 * feature vector `[B, C]` computed from x (amortised parameters), or absent for global ones.
 * Shapes: z `[K, B, D]` → z `[K, B, D]`, logDet `[K, B]`.
 */
export interface FlowStep extends Parametrised {
  readonly name: string;
  forward(z: tf.Tensor3D, context?: tf.Tensor2D): FlowResult;
  /** The inverse and log|det| of the inverse; steps without one throw `NoInverseError`. */
  inverse(z: tf.Tensor3D, context?: tf.Tensor2D): FlowResult;
}

export class NoInverseError extends Error {
  constructor(step: string) {
    super(`flow step "${step}" has no closed-form inverse`);
    this.name = 'NoInverseError';
  }
}
