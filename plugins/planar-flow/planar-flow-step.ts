import { tf, Dense, matMul } from '../../src/index.js';
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
    // Pyro's initialisation: uniform(−1/√D, 1/√D).
    const init = (n: number) => {
      const a = new Float32Array(n);
      const lim = 1 / Math.sqrt(d);
      for (let i = 0; i < n; i++) a[i] = (2 * random.uniform() - 1) * lim;
      return a;
    };
    if (contextDim > 0) {
      // The head starts with zero weights and Pyro's biases: every row starts from the same
      // planar map and the dependence on h(x) is learned. (A Glorot-random head starts each row
      // at a different random map; on the quick MNIST bench that left the encoder far behind:
      // gap 17.4 vs 5.3 nats, log p̂ −207.6 vs −198.2 after 90 steps, 2 seeds.)
      this.head = new Dense(contextDim, 2 * d + 1, random, { init: 'zeros' });
      tf.tidy(() => this.head!.bias.assign(tf.tensor1d(init(2 * d + 1))));
    } else {
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
   * û from raw (u, w) and s = 1 + wᵀû, per row: û `[B, D]`, s `[B, 1]` (or, for S stacked steps,
   * û `[S, B, D]`, s `[S, B, 1]`: every reduction is over the last axis), with
   * s = δ + softplus(wᵀu) and δ = 1e-3 + 1e-6·D·‖w‖‖u‖. The second term of δ exceeds the float32
   * rounding error of wᵀû (≈ D·2⁻²⁴·‖w‖‖u‖), so the computed û satisfies wᵀû > −1 even for raw
   * parameters of order 1e3; for ordinary parameters it is ≲ 1e-4. w = 0 gives û = u (the step is
   * then the identity, s = 1).
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
      const floor = tf.add(PLANAR_DET_FLOOR, tf.mul(tf.sqrt(tf.add(tf.mul(wSq, uSq), 1e-30)), 1e-6 * d));
      const sM = tf.add(tf.softplus(a), floor);
      const c = tf.mul(nonZero, tf.div(tf.sub(tf.sub(sM, 1), a), tf.add(wSq, isZero)));
      const uHat = tf.add(u, tf.mul(c, w));
      const s = tf.add(tf.mul(nonZero, sM), isZero);
      return { uHat, s } as unknown as tf.TensorContainerObject;
    }) as unknown as { uHat: T; s: T };
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

/** The result of a stacked step's `forwardEach`: z after every step and each step's log-det `[K, B, S]`. */
export interface StackedFlowResult {
  z: tf.Tensor3D;
  logDets: tf.Tensor3D;
}

/**
 * The sequential part of S planar steps as ONE differentiable op (`tf.customGrad`): for
 * j = 1 … S, t_j = tanh(w_jᵀz_{j−1} + b_j) and z_j = z_{j−1} + û_j·t_j.
 *
 * Inputs: z₀ `[K, B, D]`; w, û `[S, P, D]` and b `[S, P, 1]` with P = B (amortised) or 1 (global),
 * broadcast over the sample axis K. Output `[K, B, D + S]` = [z_S, t_1 … t_S].
 *
 * The gradient is written out (reverse mode through the S steps), with g = ∂L/∂z_j:
 *
 *   ∂L/∂t_j = ûⱼᵀg + (∂L/∂t_j from the output),   r_j = (1 − t_j²)·∂L/∂t_j,
 *   ∂L/∂û_j = g·t_j,   ∂L/∂w_j = r_j·z_{j−1},   ∂L/∂b_j = r_j,   ∂L/∂z_{j−1} = g + r_j·w_j,
 *
 * summed over the axes that were broadcast. Autodiff of the same forward ops records ~45 small
 * kernels per step (broadcast reductions, reshapes, casts), this ~8; the harness checks the
 * result against tf.grad's Jacobian, and a test checks parameter gradients against the unstacked
 * steps'. Second-order gradients are not supported (nothing in vaekit takes them).
 */
const planarChain = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [z, w, u, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  const n = w.shape[0];
  const d = w.shape[2];
  // Step j's parameters by gather (not unstack/slice: on wasm those copy the whole input per output).
  const at = (x: tf.Tensor3D, j: number) => tf.reshape(tf.gather(x, [j]), x.shape.slice(1));
  let y: tf.Tensor = z;
  const ys: tf.Tensor[] = [];
  const ws: tf.Tensor[] = [];
  const us: tf.Tensor[] = [];
  const ts: tf.Tensor[] = [];
  for (let j = 0; j < n; j++) {
    ys.push(y);
    ws.push(at(w, j));
    us.push(at(u, j));
    const t = tf.tanh(tf.add(tf.sum(tf.mul(y, ws[j]!), -1, true), at(b, j))); // [K, B, 1]
    y = tf.add(y, tf.mul(t, us[j]!));
    ts.push(t);
  }
  save([...ys, ...ws, ...us, ...ts]);
  // Sums per-step gradients `[K, B, …]`, stacked to `[S, K, B, …]`, over the axes the parameter
  // `[S, P, …]` was broadcast along (K, and B when P = 1).
  const reduceTo = (parts: tf.Tensor[], shape: number[]) => tf.reshape(tf.sum(tf.stack(parts), shape[1] === 1 ? [1, 2] : [1]), shape);
  return {
    value: tf.concat([y, ...ts], 2) as tf.Tensor3D,
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
      const yPrev = saved.slice(0, n);
      const wj = saved.slice(n, 2 * n);
      const uj = saved.slice(2 * n, 3 * n);
      const tj = saved.slice(3 * n, 4 * n);
      const [gOut, ...gTj] = tf.split(dy, [d, ...Array<number>(n).fill(1)], 2);
      let g: tf.Tensor = gOut!;
      const gw: tf.Tensor[] = new Array(n);
      const gu: tf.Tensor[] = new Array(n);
      const gb: tf.Tensor[] = new Array(n);
      for (let j = n - 1; j >= 0; j--) {
        const sech2 = tf.sub(1, tf.square(tj[j]!));
        const r = tf.mul(tf.add(tf.sum(tf.mul(g, uj[j]!), -1, true), gTj[j]!), sech2); // [K, B, 1]
        gu[j] = tf.mul(g, tj[j]!);
        gw[j] = tf.mul(r, yPrev[j]!);
        gb[j] = r;
        g = tf.add(g, tf.mul(r, wj[j]!));
      }
      return [g, reduceTo(gw, w.shape), reduceTo(gu, u.shape), reduceTo(gb, b.shape)];
    },
  };
});

/**
 * S consecutive planar steps (`PlanarFlowStep`, same math and parameters) evaluated with fewer
 * ops: on the wasm backend each op has a fixed cost, so a step's ~25 small ops, not its
 * arithmetic, dominate. The raw parameters of all S steps come from ONE matrix product
 * h·[W₁ … W_S] + [b₁ … b_S] (the steps' head kernels concatenated; global parameters are
 * stacked), the constraint û is applied once to `[S, B, D]` tensors, and only the transform
 *
 *   z_j = z_{j−1} + û_j·t_j,   t_j = tanh(w_jᵀz_{j−1} + b_j)   (j = 1 … S)
 *
 * runs per step, inside one op (`planarChain`: 6 kernels per step forward, ~8 in its hand-written
 * gradient). Layouts keep S on the leading axis and per-step pieces are taken with gather: on
 * wasm, slice/split/unstack copy their whole input once per output. The log-dets log(s_j·(1 − t_j²) + t_j²) of all steps are computed at the
 * end from the stacked t `[K, B, S]` (the same cancellation-free form as `PlanarFlowStep`).
 *
 * `forward` returns Σ_j log-det_j (the log-det of the composition); `forwardEach` the per-step
 * log-dets, so a flow encoder can name the step whose log-det is not finite. The sub-steps are
 * ordinary `PlanarFlowStep`s (`substeps`) owning the variables, so weight names and initial values
 * equal those of S separately built steps (variables are named `<j>/<name>` here).
 */
export class PlanarFlowStack implements FlowStep {
  readonly name = 'planar';
  readonly substeps: PlanarFlowStep[];

  constructor(
    readonly latentDim: number,
    readonly contextDim: number,
    random: Random,
    readonly count: number,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`planar flow stack: expected a positive integer step count; got ${count}`);
    this.substeps = [];
    for (let j = 0; j < count; j++) this.substeps.push(new PlanarFlowStep(latentDim, contextDim, random));
  }

  /** Raw u, w `[S, B, D]` and b `[S, B, 1]` of every step (B = 1 for global parameters). */
  rawParams(context?: tf.Tensor2D): { u: tf.Tensor3D; w: tf.Tensor3D; b: tf.Tensor3D } {
    return tf.tidy(() => {
      const d = this.latentDim;
      const n = this.count;
      if (this.contextDim > 0) {
        if (!context || context.rank !== 2 || context.shape[1] !== this.contextDim) {
          throw new Error(
            `planar flow step: expected a context of shape [B, ${this.contextDim}] (amortised parameters); got ${context ? `[${context.shape.join(', ')}]` : 'none'}`,
          );
        }
        const heads = this.substeps.map((s) => s.head!);
        const kernel = n === 1 ? heads[0]!.kernel : tf.concat(heads.map((h) => h.kernel), 1);
        const bias = n === 1 ? heads[0]!.bias : tf.concat(heads.map((h) => h.bias), 0);
        const p = tf.reshape(tf.add(matMul(context, kernel as tf.Tensor2D), bias), [context.shape[0], n, 2 * d + 1]);
        const [u, w, b] = tf.split(tf.transpose(p, [1, 0, 2]), [d, d, 1], 2);
        return { u, w, b } as unknown as tf.TensorContainerObject;
      }
      const stack = (k: 'u' | 'w' | 'b', m: number) => tf.reshape(tf.stack(this.substeps.map((s) => s[k]!)), [n, 1, m]);
      return { u: stack('u', d), w: stack('w', d), b: stack('b', 1) } as unknown as tf.TensorContainerObject;
    }) as unknown as { u: tf.Tensor3D; w: tf.Tensor3D; b: tf.Tensor3D };
  }

  forwardEach(z: tf.Tensor3D, context?: tf.Tensor2D): StackedFlowResult {
    if (z.rank !== 3 || z.shape[2] !== this.latentDim) {
      throw new Error(`planar flow step: expected z of shape [K, B, ${this.latentDim}]; got [${z.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const { u, w, b } = this.rawParams(context);
      const { uHat, s } = PlanarFlowStep.constrain(u, w);
      const d = this.latentDim;
      const [y, t] = tf.split(planarChain(z, w, uHat, b), [d, this.count], 2) as [tf.Tensor3D, tf.Tensor3D]; // t `[K, B, S]`
      const tSq = tf.square(t);
      const sRow = tf.transpose(tf.reshape(s, [this.count, s.shape[1]])); // [B, S] (or [1, S])
      const logDets = tf.log(tf.add(tf.mul(sRow, tf.sub(1, tSq)), tSq)) as tf.Tensor3D;
      return { z: y, logDets } as unknown as tf.TensorContainerObject;
    }) as unknown as StackedFlowResult;
  }

  forward(z: tf.Tensor3D, context?: tf.Tensor2D): FlowResult {
    return tf.tidy(() => {
      const { z: y, logDets } = this.forwardEach(z, context);
      return { z: y, logDet: tf.sum(logDets, -1) } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
  }

  inverse(): FlowResult {
    throw new NoInverseError(this.name);
  }

  variables(): NamedVariable[] {
    return this.substeps.flatMap((s, j) => s.variables().map((v) => ({ name: `${j}/${v.name}`, variable: v.variable })));
  }

  dispose(): void {
    for (const s of this.substeps) s.dispose();
  }
}
