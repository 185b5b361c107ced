import type { tf } from './tf.js';
import type { Random } from './random.js';
import type { Vae } from './vae.js';

/**
 * How the encoder's gradient is estimated (the decoder and prior always get the plain gradient
 * of the bound):
 * * `reparam` — the reparameterised gradient of the bound (Kingma & Welling, arXiv:1312.6114).
 * * `stl` — "sticking the landing" (Roeder, Wu & Duvenaud, arXiv:1703.09194): log q is evaluated
 *   with the encoder's parameters λ held fixed, so the score term ∇_λ log q (zero in expectation)
 *   is dropped and the gradient's variance vanishes when q is the true posterior. Unbiased for the
 *   ELBO; for IWAE_K it is the biased IWAE-STL estimator (Tucker et al., arXiv:1810.04152).
 * * `dreg` — doubly reparameterised IWAE gradient (Tucker, Lawson, Gu & Maddison,
 *   arXiv:1810.04152): Σ_k w̃_k² ∂log w_k/∂z_k · ∂z_k/∂φ with w̃ the normalised weights; unbiased,
 *   and its signal-to-noise ratio does not fall with K. With K = 1 it equals `stl`.
 */
export type GradientEstimator = 'reparam' | 'stl' | 'dreg';
export const GRADIENT_ESTIMATORS: readonly GradientEstimator[] = ['reparam', 'stl', 'dreg'];

/** What an objective gets besides the model and the batch, per training step. */
export interface ObjectiveContext {
  /** The warm-up weight of this step, in [0, 1] (1 without warm-up); an objective's own constant β multiplies it. */
  beta: number;
  /** Free bits λ in nats per latent dimension: the batch KL of an ELBO is max(KL, λ·D). 0 is off. */
  freeBits: number;
  /** The model's seeded random stream (the encoder draws its noise from it; the trainer restores it for replays). */
  random: Random;
}

/** An objective's value on one batch: the bound to report and the surrogate(s) to minimise. */
export interface ObjectiveValue {
  /** The bound per row `[B]`, nats (β = 1, no free bits): what the objective bounds log p(x) with. */
  bound: tf.Tensor1D;
  /**
   * The training loss: its value is minus the batch mean of the training objective (β-weighted,
   * with free bits where they apply) and is what the trainer reports; its gradient is used for
   * every trained variable, or only for the decoder's and the prior's when `encoderLoss` is given.
   */
  loss: tf.Scalar;
  /** The encoder's own surrogate when it needs one (DReG); only its gradient is used. */
  encoderLoss?: tf.Scalar;
}

export const Objective = Symbol.for('vaekit.Objective');
/**
 * A training objective, a role like `KlRule`: contributed as an `objective` plugin factory
 * (multi-injected, looked up by name, options validated by its own schema) and built from the
 * config's `train.objective` (`{ "type": "iwae", "samples": 10, "gradient": "dreg" }`). It sees
 * the model only through the Vae's roles (encoder, prior, likelihood). `compute` runs inside the
 * trainer's gradient tape and returns tensors the caller owns.
 */
export interface Objective {
  /** The plugin name (`elbo`, `iwae`, …). */
  readonly name: string;
  /** A short description for logs (`iwae K=10 dreg`). */
  readonly label: string;
  /**
   * True when `compute` returns `encoderLoss`: the trainer then takes the encoder's gradient from
   * it and the others' from `loss`, in two passes over the same noise (the random stream is
   * restored between them).
   */
  readonly separateEncoderLoss: boolean;
  compute(vae: Vae, x: tf.Tensor2D, ctx: ObjectiveContext): ObjectiveValue;
}

export const ObjectiveBuilder = Symbol.for('vaekit.ObjectiveBuilder');
/**
 * Builds an objective from its config spec (`{ "type": "elbo", … }`) with the container's
 * registered objective factories; `field` names the spec in errors (`train.objective`).
 */
export type ObjectiveBuilder = (spec: unknown, field: string) => Objective;

/** True for a built objective (as opposed to a config spec). */
export function isObjective(o: unknown): o is Objective {
  return typeof o === 'object' && o !== null && typeof (o as Partial<Objective>).compute === 'function';
}
