/**
 * A prior plugin: p(z) = Π_d Laplace(z_d; 0, b), log p(z) = −Σ_d |z_d|/b − D·log 2b.
 * Shapes: logProb z [K, B, D] → [K, B]; sample(n) → [n, D] (a difference of two Exp(1/b) draws).
 * Config: "prior": { "type": "laplace", "scale": 1 }.
 */
import { definePlugin, definePluginModule, tf, z, type NamedVariable, type Prior, type Random } from 'vaekit';

export class LaplacePrior implements Prior {
  readonly name = 'laplace';
  /** KL rules match on kind; with no rule for (diagonal Gaussian, laplace) the bound uses the Monte Carlo KL. */
  readonly kind = 'laplace';

  constructor(
    readonly latentDim: number,
    readonly scale: number,
    private readonly random: Random,
  ) {}

  logProb(zs: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => tf.sub(tf.div(tf.sum(tf.abs(zs), -1), -this.scale), this.latentDim * Math.log(2 * this.scale)) as tf.Tensor2D);
  }

  sample(n: number): tf.Tensor2D {
    const v = new Float32Array(n * this.latentDim);
    // b·(E₁ − E₂) with E = −log(1 − u), u ~ U[0, 1): Laplace(0, b).
    for (let i = 0; i < v.length; i++) v[i] = this.scale * (Math.log(1 - this.random.uniform()) - Math.log(1 - this.random.uniform()));
    return tf.tensor2d(v, [n, this.latentDim]);
  }

  variables(): NamedVariable[] {
    return []; // nothing to train
  }

  dispose(): void {}
}

export const laplacePrior = definePlugin({
  role: 'prior',
  name: 'laplace',
  description: 'p(z) = Π Laplace(z_d; 0, b)',
  options: z.object({ scale: z.number().positive().default(1) }).strict(),
  create: (o, ctx) => new LaplacePrior(ctx.latentDim, o.scale, ctx.random),
});

export default definePluginModule(laplacePrior);
