import type { tf } from './tf.js';
import type { Posterior } from './posterior.js';
import type { Parametrised } from './variables.js';

/** The result of drawing K samples from q(z|x) for B rows. */
export interface EncoderSample {
  /** Samples, `[K, B, D]`; reparameterised (gradients flow through z to the parameters). */
  z: tf.Tensor3D;
  /** log q(z|x) of each sample, `[K, B]`, nats. */
  logQ: tf.Tensor2D;
  /** q in closed form where the family has one, so a KL rule can use it. */
  posterior?: Posterior;
}

export const Encoder = Symbol.for('vaekit.Encoder');
/**
 * q_φ(z|x), amortised: `params(x)` maps x to a per-row parameter vector λ(x) `[B, L]`, and
 * `sampleFromParams(λ, K)` turns λ into samples. The two steps stay separate because
 * evaluation re-optimises λ per data point (the amortisation gap).
 *
 * Every method returns tensors the caller owns and must dispose (or call inside `tf.tidy`).
 */
export interface Encoder extends Parametrised {
  /** The plugin name this encoder was built from (`gaussian`, `flow`, …). */
  readonly name: string;
  /** Total latent dimension D of the z it produces. */
  readonly latentDim: number;
  /**
   * Sizes of the latent blocks, first block first, when z is a concatenation of layers
   * (a ladder of z₁, z₂). The likelihood sees the first block. Absent: one block of `latentDim`.
   */
  readonly latentSizes?: readonly number[];
  /** λ(x), `[B, L]`. */
  params(x: tf.Tensor2D): tf.Tensor2D;
  /** K reparameterised samples per row from the family with parameters λ `[B, L]`. */
  sampleFromParams(lambda: tf.Tensor2D, samples: number): EncoderSample;
  /** `sampleFromParams(params(x), K)`. */
  sample(x: tf.Tensor2D, samples: number): EncoderSample;
  /**
   * log q(z|x) `[K, B]` at given samples z `[K, B, D]` for parameters λ `[B, L]`, differentiable
   * in both (an estimator stops the gradient to λ and keeps it through z: STL, DReG). For an
   * encoder with an auxiliary variable, the log q its bound uses (see the encoder). Absent when
   * the family cannot score given points; the objectives that need it then refuse it by name.
   */
  logProb?(z: tf.Tensor3D, lambda: tf.Tensor2D): tf.Tensor2D;
  /** A point summary of q(z|x) `[B, D]` (the base mean pushed through any flow). */
  mode(x: tf.Tensor2D): tf.Tensor2D;
}
