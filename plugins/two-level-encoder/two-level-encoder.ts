import { tf, Mlp, Dense, sampleDiagonalNormal, prefixed } from '../../src/index.js';
import type { Activation, Encoder, EncoderSample, NamedVariable, Random } from '../../src/index.js';

export interface TwoLevelEncoderOptions {
  /** [D₁, D₂]: the sizes of z₁ (seen by the likelihood) and z₂. */
  sizes: [number, number];
  /** Hidden sizes of x → (μ₁, log σ₁). */
  hidden: number[];
  /** Hidden sizes of z₁ → (μ₂, log σ₂). */
  topHidden: number[];
  activation: Activation;
}

/**
 * Two stochastic layers, inferred bottom-up (Burda, Grosse & Salakhutdinov, Importance Weighted
 * Autoencoders, arXiv:1509.00519, section 5: 784-200-200-100 then 100-100-100-50, tanh):
 *
 *   q(z₁, z₂|x) = q(z₁|x) q(z₂|z₁),  q(z₁|x) = N(μ₁(x), diag σ₁(x)²),  q(z₂|z₁) = N(μ₂(z₁), diag σ₂(z₁)²),
 *   logQ = log q(z₁|x) + log q(z₂|z₁)   (exact: the joint density of the z the prior scores),
 *
 * both reparameterised. z = concat[z₁, z₂] `[K, B, D₁ + D₂]` with `latentSizes = [D₁, D₂]`, so the
 * likelihood sees z₁ only and the prior must model both layers (the paired prior is
 * `two-level`: p(z₂) p(z₁|z₂); `createVae` rejects a prior with other layer sizes).
 * Not the Ladder VAE (Sønderby et al. 2016), whose inference is top-down.
 *
 * λ(x) = [μ₁, log σ₁] `[B, 2D₁]`: q(z₂|z₁) does not see x, so λ holds every x-dependent quantity;
 * re-optimising λ per point (amortisation gap) keeps the shared q(z₂|z₁) net.
 */
export class TwoLevelEncoder implements Encoder {
  readonly name = 'two-level';
  readonly latentSizes: readonly number[];
  readonly latentDim: number;
  readonly bottom: Mlp;
  readonly mean1: Dense;
  readonly logStd1: Dense;
  readonly top: Mlp;
  readonly mean2: Dense;
  readonly logStd2: Dense;

  constructor(
    readonly dataDim: number,
    options: TwoLevelEncoderOptions,
    private readonly random: Random,
  ) {
    const [d1, d2] = options.sizes;
    this.latentSizes = [d1, d2];
    this.latentDim = d1 + d2;
    this.bottom = new Mlp(dataDim, options.hidden, options.activation, random);
    this.mean1 = new Dense(this.bottom.outputDim, d1, random);
    this.logStd1 = new Dense(this.bottom.outputDim, d1, random);
    this.top = new Mlp(d1, options.topHidden, options.activation, random);
    this.mean2 = new Dense(this.top.outputDim, d2, random);
    this.logStd2 = new Dense(this.top.outputDim, d2, random);
  }

  params(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.bottom.apply(x);
      return tf.concat([this.mean1.apply(h), this.logStd1.apply(h)], 1) as tf.Tensor2D;
    });
  }

  sampleFromParams(lambda: tf.Tensor2D, samples: number): EncoderSample {
    const d1 = this.latentSizes[0]!;
    if (lambda.rank !== 2 || lambda.shape[1] !== 2 * d1) {
      throw new Error(`${this.name} encoder: expected λ of shape [B, ${2 * d1}] (μ₁, log σ₁); got [${lambda.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const b = lambda.shape[0];
      const [m1, ls1] = tf.split(lambda, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      // One draw for both layers, split per sample (chunk-size independent, as in the other encoders).
      const d2 = this.latentSizes[1]!;
      const [eps1, eps2] = tf.split(this.random.normal<tf.Rank.R3>([samples, b, d1 + d2]), [d1, d2], 2) as [tf.Tensor3D, tf.Tensor3D];
      const q1 = sampleDiagonalNormal(m1, ls1, eps1);
      const z1 = q1.z;
      const g = this.top.apply(z1);
      const q2 = sampleDiagonalNormal(this.mean2.apply(g), this.logStd2.apply(g), eps2);
      const logQ = tf.add(q1.logQ, q2.logQ) as tf.Tensor2D;
      return { z: tf.concat([z1, q2.z], 2) as tf.Tensor3D, logQ };
    }) as unknown as EncoderSample;
  }

  sample(x: tf.Tensor2D, samples: number): EncoderSample {
    return tf.tidy(() => this.sampleFromParams(this.params(x), samples) as unknown as tf.TensorContainerObject) as unknown as EncoderSample;
  }

  /** [μ₁(x), μ₂(μ₁(x))], `[B, D₁ + D₂]`. */
  mode(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const m1 = this.mean1.apply(this.bottom.apply(x));
      return tf.concat([m1, this.mean2.apply(this.top.apply(m1))], 1) as tf.Tensor2D;
    });
  }

  variables(): NamedVariable[] {
    return [
      ...prefixed('net1', this.bottom.variables()),
      ...prefixed('mean1', this.mean1.variables()),
      ...prefixed('logStd1', this.logStd1.variables()),
      ...prefixed('net2', this.top.variables()),
      ...prefixed('mean2', this.mean2.variables()),
      ...prefixed('logStd2', this.logStd2.variables()),
    ];
  }

  dispose(): void {
    for (const p of [this.bottom, this.mean1, this.logStd1, this.top, this.mean2, this.logStd2]) p.dispose();
  }
}
