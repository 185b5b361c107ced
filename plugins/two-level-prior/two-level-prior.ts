import { tf, Mlp, standardNormalLogProbOfEps, diagonalNormalLogProb, prefixed } from '../../src/index.js';
import type { Activation, NamedVariable, Prior, Random } from '../../src/index.js';

export interface TwoLevelPriorOptions {
  /** [D₁, D₂]: the sizes of z₁ (seen by the likelihood) and z₂ (top). */
  sizes: [number, number];
  /** Hidden sizes of z₂ → (μ, log σ) of z₁. */
  hidden: number[];
  activation: Activation;
}

/**
 * A two-layer hierarchical prior (Burda et al., arXiv:1509.00519, section 5: 50-100-100-100, tanh):
 *
 *   p(z₁, z₂) = p(z₂) p(z₁|z₂),  p(z₂) = N(0, I),  p(z₁|z₂) = N(z₁; μ(z₂), diag σ(z₂)²),
 *   log p(z) = log N(z₂; 0, I) + log N(z₁; μ(z₂), σ(z₂)),   z = concat[z₁, z₂] `[K, B, D₁ + D₂]`.
 *
 * `sample(n)` draws z₂ ~ N(0, I), then z₁ ~ p(z₁|z₂), and returns concat[z₁, z₂] `[n, D]`.
 * Its conditional net is trainable (variables `prior/…`). No closed-form KL rule applies
 * (kind `two-level-gaussian`): the bound uses the Monte Carlo estimate mean_K(logQ − log p(z)).
 */
export class TwoLevelPrior implements Prior {
  readonly name = 'two-level';
  readonly kind = 'two-level-gaussian';
  readonly latentSizes: readonly number[];
  readonly latentDim: number;
  /** z₂ → [μ(z₂), log σ(z₂)] `[…, 2D₁]`. */
  readonly net: Mlp;

  constructor(
    options: TwoLevelPriorOptions,
    private readonly random: Random,
  ) {
    const [d1, d2] = options.sizes;
    this.latentSizes = [d1, d2];
    this.latentDim = d1 + d2;
    this.net = new Mlp(d2, options.hidden, options.activation, random, 2 * d1);
  }

  logProb(z: tf.Tensor3D): tf.Tensor2D {
    if (z.rank !== 3 || z.shape[2] !== this.latentDim) {
      throw new Error(`${this.name} prior: expected z of shape [K, B, ${this.latentDim}]; got [${z.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const [z1, z2] = tf.split(z, this.latentSizes as number[], 2) as [tf.Tensor3D, tf.Tensor3D];
      const [mean, logStd] = tf.split(this.net.apply(z2), 2, 2);
      return tf.add(standardNormalLogProbOfEps(z2), diagonalNormalLogProb(z1, mean!, logStd!)) as tf.Tensor2D;
    });
  }

  sample(n: number): tf.Tensor2D {
    return tf.tidy(() => {
      const [d1, d2] = this.latentSizes as [number, number];
      const z2 = this.random.normal<tf.Rank.R2>([n, d2]);
      const [mean, logStd] = tf.split(this.net.apply(z2), 2, 1);
      const z1 = tf.add(mean!, tf.mul(tf.exp(logStd!), this.random.normal([n, d1])));
      return tf.concat([z1, z2], 1) as tf.Tensor2D;
    });
  }

  variables(): NamedVariable[] {
    return prefixed('net', this.net.variables());
  }

  dispose(): void {
    this.net.dispose();
  }
}
