/**
 * A flow-step plugin: an elementwise affine step y = z ⊙ exp(s) + t, log|det ∂y/∂z| = Σ_d s_d,
 * with s = 2·tanh(ŝ) (bounded, so exp(s) never overflows) and inverse z = (y − t) ⊙ exp(−s).
 * Amortised (contextDim C > 0): [ŝ, t] = Dense(h(x)), a per-row affine map from the encoder's
 * features h(x) `[B, C]`; global (C = 0, `"amortized": false` in the flow encoder): ŝ, t are
 * two `[D]` variables. The head starts at zero, so the step starts as the identity.
 * Shapes: z [K, B, D] → z [K, B, D], logDet [K, B].
 * Config: "encoder": { "type": "flow", "steps": [{ "type": "affine" }, { "type": "planar" }] }.
 */
import { Dense, definePlugin, definePluginModule, prefixed, tf, z, type FlowResult, type FlowStep, type NamedVariable, type Random } from 'vaekit';

export class AffineFlowStep implements FlowStep {
  readonly name = 'affine';
  private readonly head?: Dense;
  private readonly raw?: tf.Variable;

  constructor(
    readonly latentDim: number,
    readonly contextDim: number,
    random: Random,
  ) {
    if (contextDim > 0) this.head = new Dense(contextDim, 2 * latentDim, random, { init: 'zeros' });
    else this.raw = tf.variable(tf.zeros([2 * latentDim]));
  }

  /** s and t, each `[1, B, D]` (amortised) or `[D]` (global), broadcasting against z `[K, B, D]`. */
  private scaleShift(context?: tf.Tensor2D): { s: tf.Tensor; t: tf.Tensor } {
    const d = this.latentDim;
    let p: tf.Tensor = this.raw!;
    if (this.head) {
      if (!context) throw new Error(`flow step "affine": built for a context of width ${this.contextDim} but called without one`);
      p = tf.expandDims(this.head.apply(context), 0);
    }
    const [sHat, t] = tf.split(p, [d, d], -1) as [tf.Tensor, tf.Tensor];
    return { s: tf.mul(tf.tanh(sHat), 2), t };
  }

  forward(zs: tf.Tensor3D, context?: tf.Tensor2D): FlowResult {
    return tf.tidy(() => {
      const { s, t } = this.scaleShift(context);
      const y = tf.add(tf.mul(zs, tf.exp(s)), t) as tf.Tensor3D;
      const logDet = tf.mul(tf.onesLike(tf.sum(zs, -1)), tf.sum(s, -1)) as tf.Tensor2D; // Σ_d s_d, broadcast to [K, B]
      return { z: y, logDet } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
  }

  inverse(ys: tf.Tensor3D, context?: tf.Tensor2D): FlowResult {
    return tf.tidy(() => {
      const { s, t } = this.scaleShift(context);
      const zs = tf.mul(tf.sub(ys, t), tf.exp(tf.neg(s))) as tf.Tensor3D;
      const logDet = tf.mul(tf.onesLike(tf.sum(ys, -1)), tf.neg(tf.sum(s, -1))) as tf.Tensor2D;
      return { z: zs, logDet } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
  }

  variables(): NamedVariable[] {
    return this.head ? prefixed('head', this.head.variables()) : [{ name: 'scale-shift', variable: this.raw! }];
  }

  dispose(): void {
    this.head?.dispose();
    this.raw?.dispose();
  }
}

export const affineFlowStep = definePlugin({
  role: 'flow-step',
  name: 'affine',
  description: 'y = z ⊙ exp(s) + t, s = 2·tanh(ŝ); [ŝ, t] from the encoder features (or global)',
  options: z.object({}).strict(),
  // contextDim: width C of h(x) the flow encoder passes (0 when its steps are global).
  create: (_o, ctx) => new AffineFlowStep(ctx.latentDim, ctx.contextDim ?? 0, ctx.random),
});

export default definePluginModule(affineFlowStep);
