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
   * (z₁, z₂ of a two-level hierarchy). The likelihood sees the first block. Absent: one block of `latentDim`.
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
   * in both (an estimator holds z fixed to take the score term ∂/∂φ log q out of the gradient and
   * keeps the gradient through z: STL, DReG). Absent when the family cannot score given points
   * (an auxiliary-variable encoder provides `samplePathwise` instead); the objectives that need
   * one of the two refuse an encoder with neither, by name.
   */
  logProb?(z: tf.Tensor3D, lambda: tf.Tensor2D): tf.Tensor2D;
  /**
   * `sampleFromParams` whose logQ keeps only the path derivative: the same values, with the score
   * term ∂/∂φ log q(z; φ) at fixed samples removed from its gradient (what STL and DReG need). For
   * encoders whose logQ involves more than z (an auxiliary variable u, scored at fixed (u, z));
   * the others get it from `logProb` (`Vae.terms` with `stopEncoderParams`).
   */
  samplePathwise?(lambda: tf.Tensor2D, samples: number): EncoderSample;
  /** A point summary of q(z|x) `[B, D]` (the base mean pushed through any flow). */
  mode(x: tf.Tensor2D): tf.Tensor2D;
}
