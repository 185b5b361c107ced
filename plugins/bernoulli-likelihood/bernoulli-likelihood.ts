import { tf, Mlp, prefixed } from '../../src/index.js';
import type { Activation, Likelihood, NamedVariable, Random } from '../../src/index.js';
import { bernoulliKernelAvailable, bernoulliLogProb } from './bernoulli-kernel.js';

export interface BernoulliOptions {
  hidden: number[];
  activation: Activation;
}

/**
 * p(x|z) = Π_p Bernoulli(x_p; sigmoid(l_p(z))) with logits l from an MLP. From logits, stably:
 * log p(x|z) = −Σ_p [max(l, 0) − x·l + log(1 + exp(−|l|))]  (minus binary cross-entropy).
 * x may be binary or intensities in [0, 1] (the continuous relaxation the ELBO literature uses
 * with `binarize: none`).
 */
export class BernoulliLikelihood implements Likelihood {
  readonly name = 'bernoulli';
  readonly net: Mlp;

  constructor(
    readonly latentDim: number,
    readonly dataDim: number,
    options: BernoulliOptions,
    private readonly random: Random,
  ) {
    this.net = new Mlp(latentDim, options.hidden, options.activation, random, dataDim);
  }

  logits(z: tf.Tensor3D): tf.Tensor3D {
    return this.net.apply(z);
  }

  logProb(x: tf.Tensor2D, z: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const l = this.logits(z);
      if (bernoulliKernelAvailable()) {
        const [k, b, p] = l.shape;
        return tf.reshape(bernoulliLogProb(tf.reshape(l, [k * b, p]) as tf.Tensor2D, x), [k, b]) as tf.Tensor2D;
      }
      return BernoulliLikelihood.logProbOps(x, l);
    });
  }

  /** `logProb` from logits `[K, B, P]` in tfjs ops (the reference, and the path off wasm and cpu). */
  static logProbOps(x: tf.Tensor2D, l: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const ce = tf.add(tf.sub(tf.relu(l), tf.mul(l, x)), tf.log1p(tf.exp(tf.neg(tf.abs(l)))));
      return tf.neg(tf.sum(ce, -1)) as tf.Tensor2D;
    });
  }

  mean(z: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => tf.sigmoid(this.logits(z)) as tf.Tensor3D);
  }

  sample(z: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const p = this.mean(z);
      const u = tf.tensor(this.random.fillUniform(new Float32Array(p.size)), p.shape);
      return tf.cast(tf.less(u, p), 'float32') as tf.Tensor3D;
    });
  }

  validateData(x: Float32Array, dim: number): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (!(v >= 0 && v <= 1)) {
        throw new Error(
          `data: the bernoulli likelihood needs values in [0, 1]; got ${v} at row ${Math.floor(i / dim)}, column ${i % dim}`,
        );
      }
    }
  }

  variables(): NamedVariable[] {
    return prefixed('net', this.net.variables());
  }

  dispose(): void {
    this.net.dispose();
  }
}
