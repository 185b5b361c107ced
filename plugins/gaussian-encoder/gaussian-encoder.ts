import { tf, Mlp, Dense, diagonalGaussian, diagonalNormalLogProb, standardNormalLogProbOfEps, prefixed } from '../../src/index.js';
import type { Activation, Encoder, EncoderSample, NamedVariable, Random } from '../../src/index.js';

export interface GaussianEncoderOptions {
  hidden: number[];
  activation: Activation;
}

/**
 * Diagonal Gaussian q(z|x) = N(z; μ(x), diag σ(x)²), reparameterised z = μ + σ ⊙ ε, ε ~ N(0, I).
 * λ(x) = [μ, log σ] `[B, 2D]`; log q = −½Σ ε² − Σ log σ − (D/2) log 2π.
 * `hidden: []` makes μ and log σ linear in x (the exact posterior family of a linear-Gaussian model
 * with orthogonal columns). Kingma & Welling, arXiv:1312.6114.
 */
export class GaussianEncoder implements Encoder {
  readonly name = 'gaussian';
  readonly net: Mlp;
  readonly meanHead: Dense;
  readonly logStdHead: Dense;

  constructor(
    readonly dataDim: number,
    readonly latentDim: number,
    options: GaussianEncoderOptions,
    private readonly random: Random,
  ) {
    this.net = new Mlp(dataDim, options.hidden, options.activation, random);
    this.meanHead = new Dense(this.net.outputDim, latentDim, random);
    this.logStdHead = new Dense(this.net.outputDim, latentDim, random);
  }

  params(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.net.apply(x);
      return tf.concat([this.meanHead.apply(h), this.logStdHead.apply(h)], 1) as tf.Tensor2D;
    });
  }

  sampleFromParams(lambda: tf.Tensor2D, samples: number): EncoderSample {
    const d = this.latentDim;
    if (lambda.rank !== 2 || lambda.shape[1] !== 2 * d) {
      throw new Error(`gaussian encoder: expected λ of shape [B, ${2 * d}]; got [${lambda.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const [mean, logStd] = tf.split(lambda, [d, d], 1) as [tf.Tensor2D, tf.Tensor2D];
      return this.sampleParts(mean, logStd, samples) as unknown as tf.TensorContainerObject;
    }) as unknown as EncoderSample;
  }

  /** `sampleFromParams(params(x))` without joining μ and log σ into λ and splitting them again (same draws). */
  sample(x: tf.Tensor2D, samples: number): EncoderSample {
    return tf.tidy(() => {
      const h = this.net.apply(x);
      return this.sampleParts(this.meanHead.apply(h), this.logStdHead.apply(h), samples) as unknown as tf.TensorContainerObject;
    }) as unknown as EncoderSample;
  }

  private sampleParts(mean: tf.Tensor2D, logStd: tf.Tensor2D, samples: number): EncoderSample {
    const eps = this.random.normal<tf.Rank.R3>([samples, mean.shape[0], this.latentDim]);
    const z = tf.add(mean, tf.mul(tf.exp(logStd), eps)) as tf.Tensor3D;
    const logQ = standardNormalLogProbOfEps(eps, logStd) as tf.Tensor2D;
    return { z, logQ, posterior: diagonalGaussian(mean, logStd) };
  }

  /** log N(z; μ, diag σ²) per sample `[K, B]` for z `[K, B, D]` and λ = [μ, log σ] `[B, 2D]`. */
  logProb(z: tf.Tensor3D, lambda: tf.Tensor2D): tf.Tensor2D {
    const d = this.latentDim;
    if (lambda.rank !== 2 || lambda.shape[1] !== 2 * d) {
      throw new Error(`gaussian encoder: expected λ of shape [B, ${2 * d}]; got [${lambda.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const [mean, logStd] = tf.split(lambda, [d, d], 1) as [tf.Tensor2D, tf.Tensor2D];
      return diagonalNormalLogProb(z, mean, logStd) as tf.Tensor2D;
    });
  }

  mode(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.meanHead.apply(this.net.apply(x)));
  }

  variables(): NamedVariable[] {
    return [
      ...prefixed('net', this.net.variables()),
      ...prefixed('mean', this.meanHead.variables()),
      ...prefixed('logStd', this.logStdHead.variables()),
    ];
  }

  dispose(): void {
    this.net.dispose();
    this.meanHead.dispose();
    this.logStdHead.dispose();
  }
}
