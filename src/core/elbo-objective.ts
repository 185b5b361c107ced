import { tf } from './tf.js';
import type { GradientEstimator, Objective, ObjectiveContext, ObjectiveValue } from './objective.js';
import type { Vae } from './vae.js';

export interface ElboObjectiveOptions {
  /** K, samples per row of the Monte Carlo estimate. */
  samples: number;
  /** Constant weight β of the KL term (β-VAE, Higgins et al. 2017); multiplies the warm-up weight. */
  beta: number;
  /** `reparam` or `stl`. */
  gradient: GradientEstimator;
}

/**
 * The (β-weighted) evidence lower bound as a training objective:
 *
 *   L_β = E_q[log p(x|z)] − β·KL(q(z|x) ‖ p(z)),   β = options.beta × the step's warm-up weight,
 *
 * with the KL term max(mean_B KL, freeBits·D) under free bits. `reparam` uses the Vae's bound
 * (the closed-form KL when a rule matches); `stl` estimates the KL by mean_K(log q − log p(z))
 * with log q scored at λ held fixed (`Vae.terms` with `stopEncoderParams`), which has the same
 * value and drops the score term from the encoder's gradient (Roeder et al., arXiv:1703.09194).
 */
export class ElboObjective implements Objective {
  readonly name = 'elbo';
  readonly separateEncoderLoss = false;

  constructor(readonly options: ElboObjectiveOptions) {}

  get label(): string {
    const { samples, beta, gradient } = this.options;
    return `elbo${samples > 1 ? ` K=${samples}` : ''}${beta !== 1 ? ` β=${beta}` : ''}${gradient !== 'reparam' ? ` ${gradient}` : ''}`;
  }

  compute(vae: Vae, x: tf.Tensor2D, { beta: warm, freeBits }: ObjectiveContext): ObjectiveValue {
    const { samples, beta: constant, gradient } = this.options;
    const beta = warm * constant;
    return tf.tidy(() => {
      if (gradient !== 'stl' && !(freeBits > 0)) {
        // The bound is Vae.elbo's; the loss is −mean_B(rec − β·KL) in as few ops as it takes (each
        // op on the tape costs a launch forward and more backward: at batch 100 they are most of
        // what the loss costs), the same value as the general form below up to float32 rounding.
        const { reconstruction, kl, elbo: bound } = vae.elbo(x, { samples });
        const perRow = beta === 1 ? bound : tf.sub(reconstruction, tf.mul(kl, beta));
        const loss = tf.neg(tf.mean(perRow)) as tf.Scalar;
        return { bound, loss } as unknown as tf.TensorContainerObject;
      }
      let reconstruction: tf.Tensor1D;
      let kl: tf.Tensor1D;
      if (gradient === 'stl') {
        const t = vae.terms(x, { samples, stopEncoderParams: true });
        reconstruction = tf.mean(t.logPxGivenZ, 0) as tf.Tensor1D;
        kl = tf.mean(tf.sub(t.logQ, t.logPz), 0) as tf.Tensor1D;
      } else {
        ({ reconstruction, kl } = vae.elbo(x, { samples }));
      }
      let klMean: tf.Tensor = tf.mean(kl);
      if (freeBits > 0) klMean = tf.maximum(klMean, freeBits * vae.latentDim);
      const loss = tf.neg(tf.sub(tf.mean(reconstruction), tf.mul(klMean, beta))) as tf.Scalar;
      const bound = tf.sub(reconstruction, kl) as tf.Tensor1D;
      return { bound, loss } as unknown as tf.TensorContainerObject;
    }) as unknown as ObjectiveValue;
  }
}
