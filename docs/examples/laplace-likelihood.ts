/**
 * A likelihood (decoder) plugin: p(x|z) = Π_j Laplace(x_j; μ_j(z), b), μ = MLP(z), b fixed:
 * log p(x|z) = −Σ_j |x_j − μ_j(z)|/b − P·log 2b (an L1 reconstruction loss with its normaliser).
 * Shapes: logProb x [B, P], z [K, B, D] → [K, B] (x broadcasts over K); mean and sample z [K, B, D] → [K, B, P].
 * Config: "likelihood": { "type": "laplace", "hidden": [200], "scale": 0.1 }.
 */
import { Mlp, activationSchema, definePlugin, definePluginModule, hiddenSchema, prefixed, tf, z, type Activation, type Likelihood, type NamedVariable, type Random } from 'vaekit';

export class LaplaceLikelihood implements Likelihood {
  readonly name = 'laplace';
  private readonly net: Mlp;

  constructor(
    latentDim: number,
    readonly dataDim: number,
    hidden: readonly number[],
    activation: Activation,
    readonly scale: number,
    private readonly random: Random,
  ) {
    this.net = new Mlp(latentDim, hidden, activation, random, dataDim);
  }

  logProb(x: tf.Tensor2D, zs: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const l1 = tf.sum(tf.abs(tf.sub(x, this.net.apply(zs))), -1); // [K, B]
      return tf.sub(tf.div(l1, -this.scale), this.dataDim * Math.log(2 * this.scale)) as tf.Tensor2D;
    });
  }

  mean(zs: tf.Tensor3D): tf.Tensor3D {
    return this.net.apply(zs);
  }

  sample(zs: tf.Tensor3D): tf.Tensor3D {
    const [k, b] = zs.shape;
    const v = new Float32Array(k * b * this.dataDim);
    for (let i = 0; i < v.length; i++) v[i] = this.scale * (Math.log(1 - this.random.uniform()) - Math.log(1 - this.random.uniform()));
    return tf.tidy(() => tf.add(this.net.apply(zs), tf.tensor3d(v, [k, b, this.dataDim])) as tf.Tensor3D);
  }

  variables(): NamedVariable[] {
    return prefixed('net', this.net.variables()); // weight names: likelihood/net/0/kernel, …
  }

  dispose(): void {
    this.net.dispose();
  }
}

export const laplaceLikelihood = definePlugin({
  role: 'likelihood',
  name: 'laplace',
  description: 'p(x|z) = Π Laplace(x_j; μ_j(z), b), μ from an MLP, b fixed',
  options: z
    .object({ hidden: hiddenSchema.default([200]), activation: activationSchema.default('tanh'), scale: z.number().positive().default(0.1) })
    .strict(),
  create: (o, ctx) => new LaplaceLikelihood(ctx.latentDim, ctx.dataDim, o.hidden, o.activation, o.scale, ctx.random),
});

export default definePluginModule(laplaceLikelihood);
