import { tf, Dense, Mlp, activate, prefixed } from '../../src/index.js';
import type { Activation, FlowResult, FlowStep, NamedVariable, Random } from '../../src/index.js';

export interface RealNvpCouplingOptions {
  /** Hidden layer sizes of the scale-and-shift net (at least one layer). */
  hidden: number[];
  activation: Activation;
  /** c in log s = c·tanh(raw/c): each log-scale stays in (−c, c). */
  logScaleBound: number;
}

/**
 * Conditional affine coupling (Dinh, Sohl-Dickstein & Bengio, Density estimation using Real NVP,
 * arXiv:1605.08803), conditioned on the context h(x):
 *
 *   y_A = z_A,   y_B = z_B ⊙ exp(log s(z_A, h)) + t(z_A, h),   log|det ∂y/∂z| = Σ_j log s_j,
 *   inverse: z_B = (y_B − t(y_A, h)) ⊙ exp(−log s(y_A, h))   (exact: the net sees only the unchanged half).
 *
 * The split alternates with `parity` (the step's index among couplings): with S = ⌈D/2⌉, parity 0
 * keeps z_{0..S−1} and transforms the rest; parity 1 transforms z_{0..S−1} and keeps the rest, so
 * consecutive couplings together transform every coordinate.
 *
 * The log-scale is bounded, log s = c·tanh(raw/c) ∈ (−c, c), so that training cannot overflow
 * exp (the same purpose as nflows' sigmoid scale). The output layer starts at zero, so a fresh
 * coupling is the identity. The first layer is split, W_A·z_A + W_h·h + b, so the context's part is
 * computed once per row and broadcast over the K samples. Requires D ≥ 2.
 *
 * Shapes: z `[K, B, D]` → y `[K, B, D]`, logDet `[K, B]`; context `[B, C]` (absent when C = 0).
 */
export class RealNvpCouplingStep implements FlowStep {
  readonly name = 'realnvp';
  /** Width of the unchanged half and of the transformed half. */
  readonly keptDim: number;
  readonly changedDim: number;
  readonly inputLayer: Dense;
  readonly contextLayer?: Dense;
  readonly body: Mlp;
  readonly output: Dense;

  constructor(
    readonly latentDim: number,
    readonly contextDim: number,
    readonly parity: 0 | 1,
    readonly options: RealNvpCouplingOptions,
    random: Random,
  ) {
    if (latentDim < 2) throw new Error(`realnvp coupling: needs a latent dimension ≥ 2 to split; got ${latentDim}`);
    if (options.hidden.length < 1) throw new Error(`realnvp coupling: hidden: expected at least one layer; got []`);
    const s = Math.ceil(latentDim / 2);
    this.keptDim = parity === 0 ? s : latentDim - s;
    this.changedDim = latentDim - this.keptDim;
    const [first, ...rest] = options.hidden as [number, ...number[]];
    this.inputLayer = new Dense(this.keptDim, first, random);
    if (contextDim > 0) this.contextLayer = new Dense(contextDim, first, random, { bias: 0 });
    this.body = new Mlp(first, rest, options.activation, random);
    this.output = new Dense(this.body.outputDim, 2 * this.changedDim, random, { init: 'zeros' });
  }

  /** (kept, changed) halves of z `[K, B, D]`. */
  private split(z: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D] {
    const s = Math.ceil(this.latentDim / 2);
    const [a, b] = tf.split(z, [s, this.latentDim - s], 2) as [tf.Tensor3D, tf.Tensor3D];
    return this.parity === 0 ? [a, b] : [b, a];
  }

  private join(kept: tf.Tensor3D, changed: tf.Tensor3D): tf.Tensor3D {
    return (this.parity === 0 ? tf.concat([kept, changed], 2) : tf.concat([changed, kept], 2)) as tf.Tensor3D;
  }

  /** log s and t `[K, B, changedDim]` from the unchanged half and the context. */
  private scaleShift(kept: tf.Tensor3D, context?: tf.Tensor2D): { logS: tf.Tensor3D; t: tf.Tensor3D } {
    let pre: tf.Tensor = this.inputLayer.apply(kept);
    if (this.contextLayer) {
      if (!context || context.rank !== 2 || context.shape[1] !== this.contextDim || context.shape[0] !== kept.shape[1]) {
        throw new Error(
          `realnvp coupling: expected a context of shape [${kept.shape[1]}, ${this.contextDim}] (amortised parameters); got ${context ? `[${context.shape.join(', ')}]` : 'none'}`,
        );
      }
      pre = tf.add(pre, this.contextLayer.apply(context));
    }
    const h = this.body.apply(activate(pre, this.options.activation) as tf.Tensor3D);
    const out = this.output.apply(h);
    const [raw, t] = tf.split(out, [this.changedDim, this.changedDim], 2) as [tf.Tensor3D, tf.Tensor3D];
    const c = this.options.logScaleBound;
    return { logS: tf.mul(tf.tanh(tf.div(raw, c)), c) as tf.Tensor3D, t };
  }

  private check(z: tf.Tensor3D): void {
    if (z.rank !== 3 || z.shape[2] !== this.latentDim) {
      throw new Error(`realnvp coupling: expected z of shape [K, B, ${this.latentDim}]; got [${z.shape.join(', ')}]`);
    }
  }

  forward(z: tf.Tensor3D, context?: tf.Tensor2D): FlowResult {
    this.check(z);
    return tf.tidy(() => {
      const [kept, changed] = this.split(z);
      const { logS, t } = this.scaleShift(kept, context);
      const y = tf.add(tf.mul(changed, tf.exp(logS)), t) as tf.Tensor3D;
      return { z: this.join(kept, y), logDet: tf.sum(logS, -1) } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
  }

  inverse(y: tf.Tensor3D, context?: tf.Tensor2D): FlowResult {
    this.check(y);
    return tf.tidy(() => {
      const [kept, changed] = this.split(y);
      const { logS, t } = this.scaleShift(kept, context);
      const z = tf.mul(tf.sub(changed, t), tf.exp(tf.neg(logS))) as tf.Tensor3D;
      return { z: this.join(kept, z), logDet: tf.neg(tf.sum(logS, -1)) } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
  }

  variables(): NamedVariable[] {
    return [
      ...prefixed('input', this.inputLayer.variables()),
      ...(this.contextLayer ? prefixed('context', this.contextLayer.variables()) : []),
      ...prefixed('body', this.body.variables()),
      ...prefixed('output', this.output.variables()),
    ];
  }

  dispose(): void {
    this.inputLayer.dispose();
    this.contextLayer?.dispose();
    this.body.dispose();
    this.output.dispose();
  }
}
