import type { tf } from './tf.js';
import type { Parametrised } from './variables.js';

export const Likelihood = Symbol.for('vaekit.Likelihood');
/** p_θ(x|z), the decoder. */
export interface Likelihood extends Parametrised {
  readonly name: string;
  /** Width P of the data rows it models. */
  readonly dataDim: number;
  /**
   * True for a density over real values (a Gaussian): binarised {0, 1} data is then a mistake
   * (its density grows without bound as the scale shrinks), and training warns of it. Optional.
   */
  readonly continuous?: boolean;
  /** log p(x|z): x `[B, P]`, z `[K, B, D]` → `[K, B]` (summed over the P outputs, nats). */
  logProb(x: tf.Tensor2D, z: tf.Tensor3D): tf.Tensor2D;
  /** E[x|z], `[K, B, D]` → `[K, B, P]`. */
  mean(z: tf.Tensor3D): tf.Tensor3D;
  /** A draw x ~ p(x|z), `[K, B, D]` → `[K, B, P]`. */
  sample(z: tf.Tensor3D): tf.Tensor3D;
  /**
   * Checks a batch of data against what this likelihood can model, throwing an error that
   * names the problem (a Bernoulli needs values in [0, 1]). Optional.
   */
  validateData?(x: Float32Array, dim: number): void;
}
