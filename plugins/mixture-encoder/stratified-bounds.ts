import { tf } from '../../src/index.js';
import type { Vae } from '../../src/index.js';
import { MixtureEncoder } from './mixture-encoder.js';

/** The mixture encoder of `vae`, or an error naming the encoder it has and what would work. */
export function mixtureEncoderOf(vae: Vae, objective: string): MixtureEncoder {
  const e = vae.encoder;
  if (!(e instanceof MixtureEncoder)) {
    throw new Error(`${objective}: needs the mixture encoder (model.encoder.type "mixture"), which draws from every component; got encoder "${e.name}" — use "elbo" or "iwae" with it`);
  }
  return e;
}

/** Stratified log-weights: log w_ck = log p(x, z_ck) − log q(z_ck|x), z_ck ~ q_c, `[C, K, B]`, and log π `[B, C]`. */
export function stratifiedLogWeights(vae: Vae, x: tf.Tensor2D, samples: number, objective = 'stratified bound'): { logW: tf.Tensor3D; logPi: tf.Tensor2D } {
  const enc = mixtureEncoderOf(vae, objective);
  vae.checkInput(x);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`${objective}: samples: expected a positive integer; got ${samples}`);
  return tf.tidy(() => {
    const s = enc.sampleStratified(x, samples);
    const logPx = tf.add(vae.prior.logProb(s.z), vae.likelihood.logProb(x, vae.decoderInput(s.z)));
    const logW = tf.reshape(tf.sub(logPx, s.logQ), [enc.components, samples, x.shape[0]]) as tf.Tensor3D;
    return { logW, logPi: s.logPi } as unknown as tf.TensorContainerObject;
  }) as unknown as { logW: tf.Tensor3D; logPi: tf.Tensor2D };
}

/**
 * SIELBO per row, `[B]` (Morningstar et al., arXiv:2003.01687, eq. for the stratified ELBO):
 *
 *   SIELBO = Σ_c π_c(x) · (1/K) Σ_k [log p(x, z_ck) − log q(z_ck|x)],   z_ck ~ q_c(z|x),
 *
 * an unbiased, stratified estimate of the mixture's ELBO E_q[log p(x, z) − log q(z|x)] (q the whole
 * mixture), differentiable in π as well as in the components (no discrete sample).
 */
export function stratifiedElbo(vae: Vae, x: tf.Tensor2D, { samples = 1 }: { samples?: number } = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const { logW, logPi } = stratifiedLogWeights(vae, x, samples, 'stratified-elbo');
    const perComponent = tf.mean(logW, 1); // [C, B]
    return tf.sum(tf.mul(tf.exp(tf.transpose(logPi)), perComponent), 0) as tf.Tensor1D;
  });
}

/**
 * SIWAE_K per row, `[B]` (Morningstar et al., arXiv:2003.01687):
 *
 *   SIWAE_K = log (1/K) Σ_k Σ_c π_c(x) · p(x, z_ck) / q(z_ck|x),   z_ck ~ q_c(z|x).
 *
 * For each k, Σ_c π_c w_ck is an unbiased estimate of p(x) (E_{q_c} summed with weights π_c is
 * E_q), so by Jensen E[SIWAE_K] ≤ log p(x); it is ≥ SIELBO (Jensen over c and k) and rises with K.
 */
export function stratifiedIwae(vae: Vae, x: tf.Tensor2D, { samples = 1 }: { samples?: number } = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const { logW, logPi } = stratifiedLogWeights(vae, x, samples, 'stratified-iwae');
    const c = logW.shape[0];
    const weighted = tf.add(logW, tf.reshape(tf.transpose(logPi), [c, 1, -1])); // [C, K, B]
    return tf.sub(tf.logSumExp(tf.reshape(weighted, [-1, x.shape[0]]), 0), Math.log(samples)) as tf.Tensor1D;
  });
}
