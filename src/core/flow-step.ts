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

/**
 * A flow step standing for `count` consecutive steps of one config entry, evaluated together
 * (e.g. planar's `PlanarFlow`: one head and one kernel for all of them). A flow-step factory may
 * return one standing for up to the build context's `stepCount`. `forward` gives the summed
 * log-det; `forwardEach` the log-det of each step `[K, B, S]`.
 */
export interface StackedFlowStep extends FlowStep {
  readonly count: number;
  forwardEach(z: tf.Tensor3D, context?: tf.Tensor2D): { z: tf.Tensor3D; logDets: tf.Tensor3D };
}

export function isStackedFlowStep(step: FlowStep): step is StackedFlowStep {
  const s = step as Partial<StackedFlowStep>;
  return typeof s.count === 'number' && typeof s.forwardEach === 'function';
}

/** How many config steps `step` stands for (1 unless it is a `StackedFlowStep`). */
export function flowStepCount(step: FlowStep): number {
  return isStackedFlowStep(step) ? step.count : 1;
}

/**
 * Weight-name prefix of the chain entry covering steps first … first + n − 1: `<base>/<first>`,
 * or `<base>/<first>-<last>` for a stacked entry (`steps/0-9/head/kernel`).
 */
export function flowStepPrefix(base: string, first: number, n: number): string {
  return n === 1 ? `${base}/${first}` : `${base}/${first}-${first + n - 1}`;
}

export class NoInverseError extends Error {
  constructor(step: string) {
    super(`flow step "${step}" has no closed-form inverse`);
    this.name = 'NoInverseError';
  }
}
