import { tf } from './tf.js';

export const LOG_2PI = Math.log(2 * Math.PI);

/** log-mean-exp over `axis`: log (1/K) Σ_k exp(a_k), stable (max subtracted first). */
export function logMeanExp(a: tf.Tensor, axis = 0): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.logSumExp(a, axis), Math.log(a.shape[axis]!)));
}

/**
 * Σ_d log N(z_d; μ_d, σ_d²) over the last axis, with σ given as log σ:
 * −½ Σ_d [((z−μ)/σ)² + 2 log σ_d + log 2π].
 */
export function diagonalNormalLogProb(z: tf.Tensor, mean: tf.Tensor, logStd: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const eps = tf.div(tf.sub(z, mean), tf.exp(logStd));
    return standardNormalLogProbOfEps(eps, logStd);
  });
}

/** The same density, given the standardised ε = (z − μ)/σ directly. */
export function standardNormalLogProbOfEps(eps: tf.Tensor, logStd?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const d = eps.shape[eps.rank - 1]!;
    let s = tf.mul(tf.sum(tf.square(eps), -1), -0.5);
    if (logStd) s = tf.sub(s, tf.sum(logStd, -1));
    return tf.sub(s, 0.5 * d * LOG_2PI);
  });
}

/** Reads a scalar or small tensor to JS numbers (outside any tidy). */
export function toArray(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

const stopGradientOp = tf.customGrad(((x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * x with its gradient stopped (TensorFlow's `stop_gradient`): the same values, and ∂(·)/∂x = 0,
 * so a surrogate can use a quantity without differentiating through it.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}
