import { definePlugin, definePluginModule, tf, z, type NamedVariable, type Prior, type Random } from 'vaekit';

/** p(z) = N(0, s²I): log p(z) = −‖z‖²/(2s²) − D·log s − (D/2)·log 2π. Shapes: z [K, B, D] → [K, B]. */
export class ScaledNormalPrior implements Prior {
  readonly name = 'scaled-normal';
  readonly kind = 'scaled-normal'; // KL rules match on kind; none exists for this one, so the bound uses Monte Carlo
  constructor(readonly latentDim: number, readonly scale: number, private readonly random: Random) {}

  logProb(zs: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const quad = tf.div(tf.sum(tf.square(zs), -1), -2 * this.scale ** 2);
      return tf.sub(quad, this.latentDim * (Math.log(this.scale) + 0.5 * Math.log(2 * Math.PI))) as tf.Tensor2D;
    });
  }

  sample(n: number): tf.Tensor2D {
    return tf.tidy(() => tf.mul(this.random.normal<tf.Rank.R2>([n, this.latentDim]), this.scale));
  }

  variables(): NamedVariable[] {
    return [];
  }

  dispose(): void {}
}

export default definePluginModule(
  definePlugin({
    role: 'prior',
    name: 'scaled-normal',
    description: 'p(z) = N(0, s²I)',
    options: z.object({ scale: z.number().positive().default(1) }).strict(),
    create: (o, ctx) => new ScaledNormalPrior(ctx.latentDim, o.scale, ctx.random),
  }),
);
