import { tf, Dense } from '../../src/index.js';
import type { FlowResult, FlowStep, NamedVariable, Random } from '../../src/index.js';
import { NoInverseError } from '../../src/index.js';

/** The floor δ in m(a) = −1 + δ + softplus(a): keeps wᵀû > −1 strictly in float32 (see the class comment). */
export const PLANAR_DET_FLOOR = 1e-3;

/** The raw planar parameters of each row, as broadcastable tensors: u, w `[B, D]` (or `[1, D]`), b `[B, 1]`. */
export interface PlanarParams {
  u: tf.Tensor2D;
  w: tf.Tensor2D;
  b: tf.Tensor2D;
}

/**
 * Planar flow (Rezende & Mohamed, Variational Inference with Normalizing Flows, arXiv:1505.05770):
 *
 *   y = z + û·tanh(wᵀz + b),   log|det ∂y/∂z| = log|1 + ûᵀψ(z)|,   ψ = (1 − tanh²(wᵀz + b))·w.
 *
 * Invertible because û is constrained so that wᵀû > −1 (the paper's appendix A.1):
 *
 *   û = u + (m(wᵀu) − wᵀu)·w/‖w‖²,   m(a) = −1 + δ + softplus(a),   so wᵀû = m(wᵀu) > −1.
 *
 * δ = 1e-3 (`PLANAR_DET_FLOOR`) plus a rounding allowance (see `constrain`) is added to the
 * paper's m so that the inequality survives float32 rounding (softplus(a) underflows to 0 for
 * a ≲ −100 and −1 + softplus(a) rounds to −1 for a ≲ −17); it bounds the contraction of one step
 * to a factor ≈ δ along w.
 *
 * The log-det is computed without cancellation: with s = 1 + wᵀû = δ + softplus(wᵀu) > 0 and
 * t = tanh(wᵀz + b), 1 + ûᵀψ = 1 + (1 − t²)(s − 1) = s·(1 − t²) + t², a sum of non-negative
 * terms that is ≥ min(s, 1) > 0, so its log is finite for every z and every raw parameter.
 *
 * Parameters are amortised — a linear head maps the context h(x) `[B, C]` to (u, w, b) per row,
 * as in the paper and in van den Berg et al. (arXiv:1803.05649) — or global (`contextDim = 0`).
 * No closed-form inverse exists (`inverse` throws `NoInverseError`).
 *
 * Shapes: z `[K, B, D]` → y `[K, B, D]`, logDet `[K, B]`.
 */
export class PlanarFlowStep implements FlowStep {
  readonly name = 'planar';
  /** Amortised: h `[B, C]` → [u, w, b] `[B, 2D + 1]`. */
  readonly head?: Dense;
  /** Global parameters: u, w `[D]`, b `[1]`. */
  readonly u?: tf.Variable;
  readonly w?: tf.Variable;
  readonly b?: tf.Variable;

  constructor(
    readonly latentDim: number,
    readonly contextDim: number,
    random: Random,
  ) {
    const d = latentDim;
    if (contextDim > 0) {
      this.head = new Dense(contextDim, 2 * d + 1, random);
    } else {
      // Pyro's initialisation: uniform(−1/√D, 1/√D).
      const init = (n: number) => {
        const a = new Float32Array(n);
        const lim = 1 / Math.sqrt(d);
        for (let i = 0; i < n; i++) a[i] = (2 * random.uniform() - 1) * lim;
        return a;
      };
      this.u = tf.variable(tf.tensor1d(init(d)), true);
      this.w = tf.variable(tf.tensor1d(init(d)), true);
      this.b = tf.variable(tf.tensor1d(init(1)), true);
    }
  }

  /** The raw (unconstrained) u, w, b for the rows of `context` (or the global ones). */
  rawParams(context?: tf.Tensor2D): PlanarParams {
    return tf.tidy(() => {
      const d = this.latentDim;
      if (this.head) {
        if (!context || context.rank !== 2 || context.shape[1] !== this.contextDim) {
          throw new Error(
            `planar flow step: expected a context of shape [B, ${this.contextDim}] (amortised parameters); got ${context ? `[${context.shape.join(', ')}]` : 'none'}`,
          );
        }
        const p = this.head.apply(context);
        const [u, w, b] = tf.split(p, [d, d, 1], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        return { u, w, b } as unknown as tf.TensorContainerObject;
      }
      return {
        u: tf.reshape(this.u!, [1, d]),
        w: tf.reshape(this.w!, [1, d]),
        b: tf.reshape(this.b!, [1, 1]),
      } as unknown as tf.TensorContainerObject;
    }) as unknown as PlanarParams;
  }

  /**
   * û from raw (u, w) and s = 1 + wᵀû, per row: û `[B, D]`, s `[B, 1]`, with
   * s = δ + softplus(wᵀu) and δ = 1e-3 + 1e-6·D·‖w‖‖u‖. The second term of δ exceeds the float32
   * rounding error of wᵀû (≈ D·2⁻²⁴·‖w‖‖u‖), so the computed û satisfies wᵀû > −1 even for raw
   * parameters of order 1e3; for ordinary parameters it is ≲ 1e-4. w = 0 gives û = u (the step is
   * then the identity, s = 1).
   */
  static constrain(u: tf.Tensor2D, w: tf.Tensor2D): { uHat: tf.Tensor2D; s: tf.Tensor2D } {
    return tf.tidy(() => {
      const d = w.shape[1];
      const a = tf.sum(tf.mul(w, u), -1, true);
      const wSq = tf.sum(tf.square(w), -1, true);
      const uSq = tf.sum(tf.square(u), -1, true);
      // 1 where w ≠ 0, else 0 (tf.step has a zero gradient; tf.greater has none).
      const nonZero = tf.step(wSq);
      const isZero = tf.sub(1, nonZero);
      const floor = tf.add(PLANAR_DET_FLOOR, tf.mul(tf.sqrt(tf.add(tf.mul(wSq, uSq), 1e-30)), 1e-6 * d));
      const sM = tf.add(tf.softplus(a), floor);
      const c = tf.mul(nonZero, tf.div(tf.sub(tf.sub(sM, 1), a), tf.add(wSq, isZero)));
      const uHat = tf.add(u, tf.mul(c, w));
      const s = tf.add(tf.mul(nonZero, sM), isZero);
      return { uHat, s } as unknown as tf.TensorContainerObject;
    }) as unknown as { uHat: tf.Tensor2D; s: tf.Tensor2D };
  }

  forward(z: tf.Tensor3D, context?: tf.Tensor2D): FlowResult {
    if (z.rank !== 3 || z.shape[2] !== this.latentDim) {
      throw new Error(`planar flow step: expected z of shape [K, B, ${this.latentDim}]; got [${z.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const { u, w, b } = this.rawParams(context);
      const { uHat, s } = PlanarFlowStep.constrain(u, w);
      // wᵀz + b per sample: [K, B]; parameters broadcast over the sample axis.
      const pre = tf.add(tf.sum(tf.mul(z, w), -1), tf.reshape(b, [-1]));
      const t = tf.tanh(pre);
      const y = tf.add(z, tf.mul(tf.expandDims(t, 2), uHat)) as tf.Tensor3D;
      const tSq = tf.square(t);
      const det = tf.add(tf.mul(tf.reshape(s, [-1]), tf.sub(1, tSq)), tSq);
      const logDet = tf.log(det) as tf.Tensor2D;
      return { z: y, logDet } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
  }

  inverse(): FlowResult {
    throw new NoInverseError(this.name);
  }

  variables(): NamedVariable[] {
    if (this.head) return this.head.variables().map((v) => ({ name: `head/${v.name}`, variable: v.variable }));
    return [
      { name: 'u', variable: this.u! },
      { name: 'w', variable: this.w! },
      { name: 'b', variable: this.b! },
    ];
  }

  dispose(): void {
    this.head?.dispose();
    this.u?.dispose();
    this.w?.dispose();
    this.b?.dispose();
  }
}
