import { tf, Mlp, LOG_2PI, prefixed } from '../../src/index.js';
import type { Activation, Likelihood, NamedVariable, Random } from '../../src/index.js';

export type VarianceMode = 'fixed' | 'global' | 'per-dimension';

export interface GaussianLikelihoodOptions {
  hidden: number[];
  activation: Activation;
  /** `fixed`: σ from `sigma`; `global`: one learned σ; `per-dimension`: one learned σ per output. */
  variance: VarianceMode;
  /** The fixed σ, or the initial σ of a learned one. */
  sigma: number;
}

/**
 * p(x|z) = N(x; μ(z), σ² I) (or diag σ_p²), μ from an MLP with a linear output:
 * log p(x|z) = −Σ_p (x_p − μ_p)²/(2σ_p²) − Σ_p log σ_p − (P/2) log 2π.
 * With a fixed σ this is −‖x − μ‖²/(2σ²) − (P/2) log(2πσ²): the "negative MSE up to constants"
 * with the constant kept. Learned σ is parameterised by log σ (positive by construction).
 * `hidden: []` gives the linear decoder of probabilistic PCA.
 */
export class GaussianLikelihood implements Likelihood {
  readonly name = 'gaussian';
  readonly continuous = true;
  readonly net: Mlp;
  /** log σ: a variable `[1]` or `[P]` when learned, a constant `[1]` when fixed. */
  readonly logSigma: tf.Tensor1D;
  private readonly learned: boolean;

  constructor(
    readonly latentDim: number,
    readonly dataDim: number,
    readonly options: GaussianLikelihoodOptions,
    private readonly random: Random,
  ) {
    this.net = new Mlp(latentDim, options.hidden, options.activation, random, dataDim);
    this.learned = options.variance !== 'fixed';
    const size = options.variance === 'per-dimension' ? dataDim : 1;
    const init = tf.fill([size], Math.log(options.sigma)) as tf.Tensor1D;
    this.logSigma = this.learned ? tf.variable(init, true) : init;
    if (this.learned) init.dispose();
  }

  logProb(x: tf.Tensor2D, z: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const mu = this.net.apply(z);
      const r = tf.div(tf.sub(x, mu), tf.exp(this.logSigma));
      const sumLogSigma =
        this.logSigma.size === 1 ? tf.mul(tf.reshape(this.logSigma, []), this.dataDim) : tf.sum(this.logSigma);
      const quad = tf.mul(tf.sum(tf.square(r), -1), -0.5);
      return tf.sub(quad, tf.add(sumLogSigma, 0.5 * this.dataDim * LOG_2PI)) as tf.Tensor2D;
    });
  }

  mean(z: tf.Tensor3D): tf.Tensor3D {
    return this.net.apply(z);
  }

  sample(z: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const mu = this.mean(z);
      return tf.add(mu, tf.mul(tf.exp(this.logSigma), this.random.normal(mu.shape))) as tf.Tensor3D;
    });
  }

  validateData(x: Float32Array, dim: number): void {
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]!)) {
        throw new Error(`data: non-finite value ${x[i]} at row ${Math.floor(i / dim)}, column ${i % dim}`);
      }
    }
  }

  variables(): NamedVariable[] {
    const vars = prefixed('net', this.net.variables());
    if (this.learned) vars.push({ name: 'logSigma', variable: this.logSigma as tf.Variable });
    return vars;
  }

  dispose(): void {
    this.net.dispose();
    this.logSigma.dispose();
  }
}
