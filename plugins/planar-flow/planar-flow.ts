import { tf, Dense, matMul } from '../../src/index.js';
import type { FlowResult, FlowStep, NamedVariable, Random } from '../../src/index.js';
import { withoutGradient } from '../../src/index.js';

/** Halvings of the bracket in `PlanarFlow.inverse` before its Newton steps (2⁻⁴⁰ of its width: below float32 resolution). */
export const INVERSE_BISECTIONS = 40;
import { PLANAR_DET_FLOOR, PLANAR_ROUNDING, planarKernelAvailable, planarStackKernel } from './planar-kernel.js';

export { PLANAR_DET_FLOOR, PLANAR_ROUNDING } from './planar-kernel.js';

/** The result of `PlanarFlow.forwardEach`: z after every step and each step's log-det `[K, B, S]`. */
export interface StackedFlowResult {
  z: tf.Tensor3D;
  logDets: tf.Tensor3D;
}

/**
 * S ≥ 1 consecutive planar steps (Rezende & Mohamed, Variational Inference with Normalizing
 * Flows, arXiv:1505.05770), j = 1 … S:
 *
 *   z_j = z_{j−1} + û_j·tanh(w_jᵀz_{j−1} + b_j),   log|det ∂z_j/∂z_{j−1}| = log|1 + û_jᵀψ_j|,
 *   ψ_j = (1 − tanh²(w_jᵀz_{j−1} + b_j))·w_j.
 *
 * Each step is invertible because û is constrained so that wᵀû > −1 (the paper's appendix A.1):
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
 * Parameters are amortised — one linear head maps the context h(x) `[B, C]` to the raw
 * (u_j, w_j, b_j) of every step, as in the paper and in van den Berg et al. (arXiv:1803.05649) —
 * or global (`contextDim = 0`). Weights (`variables()`):
 *
 *   amortised: `head/kernel` `[C, S·(2D + 1)]`, `head/bias` `[S·(2D + 1)]`, step j's [u, w, b]
 *              in columns j·(2D + 1) … (j + 1)·(2D + 1) − 1;
 *   global:    `u`, `w` `[S, D]`, `b` `[S, 1]`, row j for step j.
 *
 * One joined head, not one per step: S heads cost S times the per-variable work of every
 * optimiser step and a concat/split of their weights per training step (on wasm, ~5 ms of a
 * 40 ms step for S = 10). The head starts at zero weights with Pyro's uniform(−1/√D, 1/√D)
 * biases, drawn step by step, so S steps built one by one from the same seed start at the same
 * values.
 *
 * On wasm and cpu the S steps run as one host kernel forward and one backward (`planar-kernel.ts`:
 * the same formulas in float64, WebAssembly compiled from `assembly/planar-kernel.as.ts`), the
 * head's bias added inside the kernel; elsewhere, or with `setSpeedFixes(false)`, as the tfjs ops
 * of `forwardEachOps` differentiated by tfjs's autodiff — the reference the kernels are tested
 * against. No closed-form inverse exists: `inverse` solves one scalar equation per step (see there).
 *
 * Shapes: z `[K, B, D]` → y `[K, B, D]`; `forward` gives the log-det of the composition `[K, B]`,
 * `forwardEach` every step's `[K, B, S]` (a flow encoder names the step whose log-det is not finite).
 */
export class PlanarFlow implements FlowStep {
  readonly name = 'planar';
  /** Amortised: h `[B, C]` → [u_j, w_j, b_j]_{j=1…S} `[B, S·(2D + 1)]`. */
  readonly head?: Dense;
  /** Global parameters: u, w `[S, D]`, b `[S, 1]`. */
  readonly u?: tf.Variable;
  readonly w?: tf.Variable;
  readonly b?: tf.Variable;

  constructor(
    readonly latentDim: number,
    readonly contextDim: number,
    random: Random,
    /** S, the number of steps. */
    readonly count = 1,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`planar flow: expected a positive integer step count; got ${count}`);
    const d = latentDim;
    const width = 2 * d + 1;
    // Pyro's initialisation uniform(−1/√D, 1/√D), drawn step by step in the order u, w, b.
    const init = new Float32Array(count * width);
    const lim = 1 / Math.sqrt(d);
    for (let i = 0; i < init.length; i++) init[i] = (2 * random.uniform() - 1) * lim;
    if (contextDim > 0) {
      // The head starts with zero weights: every row starts from the same planar maps and the
      // dependence on h(x) is learned. (A Glorot-random head starts each row at a different
      // random map; on the quick MNIST bench that left the encoder far behind: gap 17.4 vs 5.3
      // nats, log p̂ −207.6 vs −198.2 after 90 steps, 2 seeds.)
      this.head = new Dense(contextDim, count * width, random, { init: 'zeros' });
      tf.tidy(() => this.head!.bias.assign(tf.tensor1d(init)));
    } else {
      const rows = tf.tensor2d(init, [count, width]);
      const [u, w, b] = tf.split(rows, [d, d, 1], 1);
      this.u = tf.variable(u!, true);
      this.w = tf.variable(w!, true);
      this.b = tf.variable(b!, true);
      tf.dispose([rows, u!, w!, b!]);
    }
  }

  /** The raw parameters of every step: `[P, S, 2D + 1]`, each row [u, w, b] (P = B amortised, 1 global). */
  packedParams(context?: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const width = 2 * this.latentDim + 1;
      if (this.head) {
        const h = this.checkContext(context);
        return tf.reshape(this.head.apply(h), [h.shape[0], this.count, width]) as tf.Tensor3D;
      }
      return tf.expandDims(tf.concat([this.u!, this.w!, this.b!], 1), 0) as tf.Tensor3D;
    });
  }

  /**
   * û from raw (u, w) and s = 1 + wᵀû, per row: û `[B, D]`, s `[B, 1]` (or any leading axes:
   * every reduction is over the last axis), with s = δ + softplus(wᵀu) and
   * δ = 1e-3 + 1e-6·D·‖w‖‖u‖. The second term of δ exceeds the float32 rounding error of wᵀû
   * (≈ D·2⁻²⁴·‖w‖‖u‖), so the computed û satisfies wᵀû > −1 even for raw parameters of order
   * 1e3; for ordinary parameters it is ≲ 1e-4. w = 0 gives û = u (the step is then the
   * identity, s = 1). (The tfjs-op reference; the kernels compute the same in float64.)
   */
  static constrain<T extends tf.Tensor2D | tf.Tensor3D>(u: T, w: T): { uHat: T; s: T } {
    return tf.tidy(() => {
      const d = w.shape[w.rank - 1]!;
      const a = tf.sum(tf.mul(w, u), -1, true);
      const wSq = tf.sum(tf.square(w), -1, true);
      const uSq = tf.sum(tf.square(u), -1, true);
      // 1 where w ≠ 0, else 0 (tf.step has a zero gradient; tf.greater has none).
      const nonZero = tf.step(wSq);
      const isZero = tf.sub(1, nonZero);
      const floor = tf.add(PLANAR_DET_FLOOR, tf.mul(tf.sqrt(tf.add(tf.mul(wSq, uSq), 1e-30)), PLANAR_ROUNDING * d));
      const sM = tf.add(tf.softplus(a), floor);
      const c = tf.mul(nonZero, tf.div(tf.sub(tf.sub(sM, 1), a), tf.add(wSq, isZero)));
      const uHat = tf.add(u, tf.mul(c, w));
      const s = tf.add(tf.mul(nonZero, sM), isZero);
      return { uHat, s } as unknown as tf.TensorContainerObject;
    }) as unknown as { uHat: T; s: T };
  }

  forwardEach(z: tf.Tensor3D, context?: tf.Tensor2D): StackedFlowResult {
    if (!planarKernelAvailable()) return this.forwardEachOps(z, context);
    this.checkLatent(z);
    return tf.tidy(() => {
      const width = 2 * this.latentDim + 1;
      // Amortised: the head's product h·W goes in without its bias, which the kernel adds (and
      // whose gradient it returns: no separate reduction over rows).
      const p = this.head
        ? (tf.reshape(matMul(this.checkContext(context), this.head.kernel as tf.Tensor2D), [-1, this.count, width]) as tf.Tensor3D)
        : this.packedParams();
      const bias = (this.head ? tf.reshape(this.head.bias, [this.count, width]) : tf.zeros([this.count, width])) as tf.Tensor2D;
      const [y, logDets] = tf.split(planarStackKernel(z, p, bias), [this.latentDim, this.count], 2);
      return { z: y, logDets } as unknown as tf.TensorContainerObject;
    }) as unknown as StackedFlowResult;
  }

  /** `forwardEach` as plain tfjs ops, step by step (differentiated by tfjs's autodiff): the fallback and the reference. */
  forwardEachOps(z: tf.Tensor3D, context?: tf.Tensor2D): StackedFlowResult {
    this.checkLatent(z);
    return tf.tidy(() => {
      const d = this.latentDim;
      const p = this.packedParams(context);
      const rows = p.shape[0];
      let y = z;
      const logDets: tf.Tensor[] = [];
      for (const pj of this.count === 1 ? [p] : tf.split(p, this.count, 1)) {
        const [u, w, b] = tf.split(tf.reshape(pj, [rows, 2 * d + 1]), [d, d, 1], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const { uHat, s } = PlanarFlow.constrain(u, w);
        // wᵀz + b per sample: [K, B]; parameters broadcast over the sample axis.
        const t = tf.tanh(tf.add(tf.sum(tf.mul(y, w), -1), tf.reshape(b, [-1])));
        y = tf.add(y, tf.mul(tf.expandDims(t, 2), uHat)) as tf.Tensor3D;
        const tSq = tf.square(t);
        logDets.push(tf.log(tf.add(tf.mul(tf.reshape(s, [-1]), tf.sub(1, tSq)), tSq)));
      }
      return { z: y, logDets: tf.stack(logDets, 2) } as unknown as tf.TensorContainerObject;
    }) as unknown as StackedFlowResult;
  }

  forward(z: tf.Tensor3D, context?: tf.Tensor2D): FlowResult {
    return tf.tidy(() => {
      const { z: y, logDets } = this.forwardEach(z, context);
      return { z: y, logDet: this.count === 1 ? tf.squeeze(logDets, [2]) : tf.sum(logDets, -1) } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
  }

  /**
   * The numerical inverse (Rezende & Mohamed, appendix A.1): for y = z + û·tanh(wᵀz + b), the
   * scalar α = wᵀz solves g(α) = α + (wᵀû)·tanh(α + b) − wᵀy = 0, with g′ = 1 + wᵀû(1 − tanh²) > 0
   * (wᵀû > −1), so the root is unique and lies in [wᵀy − |wᵀû|, wᵀy + |wᵀû|]. It is found by
   * bisection (`INVERSE_BISECTIONS` halvings, then two Newton steps) off the gradient tape
   * (`withoutGradient`), and a last Newton step α ← α − g(α)/g′(α) on the live parameters gives the exact
   * implicit-function gradient of α w.r.t. y and the parameters. Then z = y − û·tanh(α + b) and
   * log|det ∂z/∂y| = −log(1 + ûᵀψ(z)). Steps are undone last to first. Agrees with `forward` to
   * float32 rounding (|Δz| ≲ 1e-5 for parameters of order 1; the tests state the tolerance).
   */
  inverse(y: tf.Tensor3D, context?: tf.Tensor2D): FlowResult {
    this.checkLatent(y);
    return tf.tidy(() => {
      const d = this.latentDim;
      const p = this.packedParams(context);
      const rows = p.shape[0];
      const perStep = this.count === 1 ? [p] : tf.split(p, this.count, 1);
      let z = y;
      let logDet: tf.Tensor = tf.zeros(y.shape.slice(0, 2));
      for (let j = this.count - 1; j >= 0; j--) {
        const [u, w, b] = tf.split(tf.reshape(perStep[j]!, [rows, 2 * d + 1]), [d, d, 1], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const { uHat, s } = PlanarFlow.constrain(u, w);
        const a = tf.reshape(tf.sub(s, 1), [-1]); // wᵀû per row, [P]
        const bias = tf.reshape(b, [-1]);
        const c = tf.sum(tf.mul(z, w), -1); // wᵀy, [K, B]
        const g = (alpha: tf.Tensor, aa: tf.Tensor, bb: tf.Tensor, cc: tf.Tensor) => tf.sub(tf.add(alpha, tf.mul(aa, tf.tanh(tf.add(alpha, bb)))), cc);
        const gPrime = (alpha: tf.Tensor, aa: tf.Tensor, bb: tf.Tensor) => tf.add(1, tf.mul(aa, tf.sub(1, tf.square(tf.tanh(tf.add(alpha, bb))))));
        const root = withoutGradient(
          (aS, bS, cS) => {
            let lo = tf.sub(cS!, tf.abs(aS!));
            let hi = tf.add(cS!, tf.abs(aS!));
            for (let i = 0; i < INVERSE_BISECTIONS; i++) {
              const mid = tf.mul(tf.add(lo, hi), 0.5);
              const below = tf.less(g(mid, aS!, bS!, cS!), 0);
              lo = tf.where(below, mid, lo);
              hi = tf.where(below, hi, mid);
            }
            let alpha: tf.Tensor = tf.mul(tf.add(lo, hi), 0.5);
            for (let i = 0; i < 2; i++) alpha = tf.sub(alpha, tf.div(g(alpha, aS!, bS!, cS!), gPrime(alpha, aS!, bS!)));
            return alpha;
          },
          a,
          bias,
          c,
        );
        const alpha = tf.sub(root, tf.div(g(root, a, bias, c), gPrime(root, a, bias)));
        const t = tf.tanh(tf.add(alpha, bias));
        z = tf.sub(z, tf.mul(tf.expandDims(t, 2), uHat)) as tf.Tensor3D;
        const tSq = tf.square(t);
        logDet = tf.sub(logDet, tf.log(tf.add(tf.mul(tf.reshape(s, [-1]), tf.sub(1, tSq)), tSq)));
      }
      return { z, logDet } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
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

  private checkContext(context: tf.Tensor2D | undefined): tf.Tensor2D {
    if (!context || context.rank !== 2 || context.shape[1] !== this.contextDim) {
      throw new Error(`planar flow: expected a context of shape [B, ${this.contextDim}] (amortised parameters); got ${context ? `[${context.shape.join(', ')}]` : 'none'}`);
    }
    return context;
  }

  private checkLatent(z: tf.Tensor): void {
    if (z.rank !== 3 || z.shape[2] !== this.latentDim) {
      throw new Error(`planar flow: expected z of shape [K, B, ${this.latentDim}]; got [${z.shape.join(', ')}]`);
    }
  }
}
