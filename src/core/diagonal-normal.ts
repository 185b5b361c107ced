import { tf } from './tf.js';
import { standardNormalLogProbOfEps } from './math.js';
import { fusedNormalLogQ, fusedNormalSample, normalKernelsAvailable } from './diagonal-normal-kernels.js';

export { diagonalNormalLogProb } from './math.js';

/**
 * The reparameterised diagonal Normal, written once for every encoder:
 *
 *   z = μ + σ ⊙ ε,   log N(z; μ, diag σ²) = −½ Σ_d ε_d² − Σ_d log σ_d − (D/2) log 2π,
 *
 * with σ given as log σ and ε ~ N(0, I) drawn by the caller (its random stream and its split of
 * one draw among several variables stay the caller's). μ and log σ broadcast against ε (`[B, D]`
 * against `[K, B, D]`). Its log-density at a given z is `diagonalNormalLogProb(z, μ, log σ)`.
 * On wasm and cpu, μ and log σ `[B, D]` with ε `[K, B, D]` take one fused kernel for z and one
 * for log q (`diagonal-normal-kernels.ts`), each with a fused gradient.
 */
export function sampleDiagonalNormal<R extends tf.Rank>(mean: tf.Tensor, logStd: tf.Tensor, eps: tf.Tensor<R>): { z: tf.Tensor<R>; logQ: tf.Tensor } {
  return tf.tidy(() => {
    if (normalKernelsAvailable(mean, logStd, eps)) {
      const [m, s, e] = [mean as tf.Tensor2D, logStd as tf.Tensor2D, eps as unknown as tf.Tensor3D];
      return { z: fusedNormalSample(m, s, e), logQ: fusedNormalLogQ(s, e) } as unknown as tf.TensorContainerObject;
    }
    const z = tf.add(mean, tf.mul(tf.exp(logStd), eps)) as tf.Tensor<R>;
    const logQ = standardNormalLogProbOfEps(eps, logStd);
    return { z, logQ } as unknown as tf.TensorContainerObject;
  }) as unknown as { z: tf.Tensor<R>; logQ: tf.Tensor };
}
