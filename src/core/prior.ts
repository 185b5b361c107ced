import type { tf } from './tf.js';
import type { Parametrised } from './variables.js';

export const Prior = Symbol.for('vaekit.Prior');
/** p(z). May own trainable variables. */
export interface Prior extends Parametrised {
  /** The plugin name (`standard-normal`, …); KL rules match on it. */
  readonly name: string;
  /** The family used to match KL rules (`standard-normal`, …). */
  readonly kind: string;
  readonly latentDim: number;
  /** Block sizes for a hierarchical prior (see `Encoder.latentSizes`). */
  readonly latentSizes?: readonly number[];
  /** log p(z), z `[K, B, D]` → `[K, B]`. */
  logProb(z: tf.Tensor3D): tf.Tensor2D;
  /** n draws, `[n, D]`. */
  sample(n: number): tf.Tensor2D;
}
