import { tf } from './tf.js';
import { logMeanExp, stopGradient } from './math.js';
import type { GradientEstimator, Objective, ObjectiveValue } from './objective.js';
import type { Vae } from './vae.js';

export interface IwaeObjectiveOptions {
  /** K, importance samples per row. */
  samples: number;
  /** `reparam`, `stl` (IWAE-STL, biased) or `dreg`. */
  gradient: GradientEstimator;
}

/**
 * The importance-weighted bound (Burda et al., arXiv:1509.00519) as a training objective:
 *
 *   IWAE_K = log (1/K) Σ_k w_k,   log w_k = log p(x|z_k) + log p(z_k) − log q(z_k|x).
 *
 * Warm-up and free bits do not apply. Encoder gradients by `gradient`:
 * * `reparam` — ∇ of IWAE_K through z and λ.
 * * `stl` — ∇ of IWAE_K with log q scored at λ held fixed (IWAE-STL): lower variance but biased
 *   for K > 1 (Tucker et al., arXiv:1810.04152, section 4).
 * * `dreg` — the encoder minimises −Σ_k sg(w̃_k²)·log w_k with log q at λ held fixed and
 *   w̃ = softmax_k(log w) (Tucker et al., eq. 7): unbiased; equals `stl` at K = 1. The decoder and
 *   prior take the plain gradient of IWAE_K (`loss`), so the objective returns two surrogates.
 */
export class IwaeObjective implements Objective {
  readonly name = 'iwae';

  constructor(readonly options: IwaeObjectiveOptions) {}

  get separateEncoderLoss(): boolean {
    return this.options.gradient === 'dreg';
  }

  get label(): string {
    const { samples, gradient } = this.options;
    return `iwae K=${samples}${gradient !== 'reparam' ? ` ${gradient}` : ''}`;
  }

  compute(vae: Vae, x: tf.Tensor2D): ObjectiveValue {
    const { samples, gradient } = this.options;
    return tf.tidy(() => {
      if (gradient === 'reparam') {
        const bound = vae.iwae(x, { samples });
        return { bound, loss: tf.neg(tf.mean(bound)) } as unknown as tf.TensorContainerObject;
      }
      const t = vae.terms(x, { samples, stopEncoderParams: true });
      const logW = tf.sub(tf.add(t.logPxGivenZ, t.logPz), t.logQ);
      const bound = logMeanExp(logW, 0) as tf.Tensor1D;
      const loss = tf.neg(tf.mean(bound));
      if (gradient === 'stl') return { bound, loss } as unknown as tf.TensorContainerObject;
      const weights = stopGradient(tf.square(tf.softmax(tf.transpose(logW)))); // [B, K]
      const encoderLoss = tf.neg(tf.mean(tf.sum(tf.mul(weights, tf.transpose(logW)), 1)));
      return { bound, loss, encoderLoss } as unknown as tf.TensorContainerObject;
    }) as unknown as ObjectiveValue;
  }
}
