import { tf } from './tf.js';
import { DIAGONAL_GAUSSIAN, type Posterior } from './posterior.js';
import type { Prior } from './prior.js';
import { fusedNormalKl, normalKernelsAvailable } from './diagonal-normal-kernels.js';

export const KlRule = Symbol.for('vaekit.KlRule');
/**
 * A closed form KL(q ‖ p) for one pair (posterior kind, prior kind), registered like
 * `torch.distributions.kl.register_kl`: bind one to the `KlRule` token in a ContainerModule.
 */
export interface KlRule {
  posterior: string;
  prior: string;
  /** KL(q(z|x) ‖ p(z)) per row, `[B]`, nats. */
  kl(q: Posterior, p: Prior): tf.Tensor1D;
}

/** Finds the rule for a pair, or undefined (the bound then uses the Monte Carlo estimate). */
export function findKlRule(rules: readonly KlRule[], q: Posterior | undefined, p: Prior): KlRule | undefined {
  if (!q) return undefined;
  return rules.find((r) => r.posterior === q.kind && r.prior === p.kind);
}

/**
 * KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_d (μ_d² + σ_d² − log σ_d² − 1), per row.
 * Kingma & Welling, Auto-Encoding Variational Bayes, arXiv:1312.6114, appendix B.
 * One fused kernel each way on wasm and cpu (`diagonal-normal-kernels.ts`).
 */
export const diagonalGaussianStandardNormalKl: KlRule = {
  posterior: DIAGONAL_GAUSSIAN,
  prior: 'standard-normal',
  kl(q: Posterior): tf.Tensor1D {
    return tf.tidy(() => {
      const mean = q.params.mean!;
      const logStd = q.params.logStd!;
      if (normalKernelsAvailable(mean, logStd)) return fusedNormalKl(mean as tf.Tensor2D, logStd as tf.Tensor2D);
      const twoLogStd = tf.mul(logStd, 2);
      const terms = tf.sub(tf.add(tf.square(mean), tf.exp(twoLogStd)), tf.add(twoLogStd, 1));
      return tf.mul(tf.sum(terms, 1), 0.5) as tf.Tensor1D;
    });
  },
};
