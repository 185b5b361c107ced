import { tf, hostKernelAvailable, registerHostKernel, runHostKernel } from '../../src/index.js';
import type { HostKernel } from '../../src/index.js';

/** The floor δ in m(a) = −1 + δ + softplus(a): keeps wᵀû > −1 strictly in float32 (see `PlanarFlow`). */
export const PLANAR_DET_FLOOR = 1e-3;
/** The rounding allowance of δ per latent dimension: δ = PLANAR_DET_FLOOR + PLANAR_ROUNDING·D·‖w‖‖u‖. */
export const PLANAR_ROUNDING = 1e-6;

/**
 * S planar steps as two host kernels (see `registerHostKernel`): the whole chain
 *
 *   û_j = u_j + c_j·w_j,   s_j = 1 + w_jᵀû_j,   t_j = tanh(w_jᵀz_{j−1} + b_j),
 *   z_j = z_{j−1} + û_j·t_j,   log-det_j = log(s_j·(1 − t_j²) + t_j²)      (j = 1 … S)
 *
 * in one forward kernel and its reverse-mode derivative in one backward kernel, instead of ~25
 * tfjs ops per step forward and as many backward (each with a fixed dispatch cost on wasm).
 * The constraint (c_j, s_j from m(a) = −1 + δ + softplus(a), δ = 1e-3 + 1e-6·D·‖w‖‖u‖; w = 0
 * gives û = u, s = 1) is `PlanarFlow.constrain`'s, and so is every formula: the two paths
 * agree to float32 rounding (tests: values and gradients, amortised and global, K = 1 … 3).
 * Arithmetic is in float64 inside the kernels; what they store (outputs, and the constraint and
 * trace below, which the forward pass itself reads back) is float32.
 *
 * Layout. Inputs z₀ `[K, B, D]` and the raw parameters p `[P, S, 2D + 1]`, each step's row
 * being [u (D), w (D), b (1)], with P = B (amortised: one set per row) or P = 1 (global,
 * broadcast over rows). Forward outputs: `[K, B, D + S]` = [z_S, log-det_1 … log-det_S]; the
 * constraint per parameter row and step `[P, S, D + 5]` = [û, s, c, a, ω, υ]; and the trace
 * `[K, B, S, D + 1]` = [z_{j−1}, t_j] per step — the last two are kept for the backward pass,
 * which so recomputes nothing. Backward: inputs p, the constraint, the trace and dy
 * `[K, B, D + S]`; outputs dz₀ `[K, B, D]` and dp `[P, S, 2D + 1]` (summed over samples, and over
 * rows when P = 1). Both loop over parameter rows, then the (sample, row) pairs using them.
 *
 * Gradient of the constraint (per step, nonzero w; a = wᵀu, ω = ‖w‖², υ = ‖u‖²,
 * q = √(ωυ + 1e-30), ε = 1e-6·D, σ the logistic function, G_û = ∂L/∂û, G_s = ∂L/∂s,
 * G_c = G_ûᵀw):
 *
 *   ∂s/∂a = σ(a),  ∂s/∂ω = ευ/(2q),  ∂s/∂υ = εω/(2q);
 *   ∂c/∂a = (σ(a) − 1)/ω,  ∂c/∂ω = (∂s/∂ω − c)/ω,  ∂c/∂υ = (∂s/∂υ)/ω;
 *   ∂L/∂u = G_û + (∂L/∂a)·w + 2(∂L/∂υ)·u,   ∂L/∂w = c·G_û + (∂L/∂a)·u + 2(∂L/∂ω)·w + Σ r·z_{j−1},
 *
 * with ∂L/∂a = G_c·∂c/∂a + G_s·∂s/∂a (likewise ω, υ) and, through the chain (g = ∂L/∂z_j,
 * ℓ = ∂L/∂log-det_j, det = s(1 − t²) + t²):
 *
 *   r = (1 − t²)·(ûᵀg + ℓ·2t(1 − s)/det),   G_û += g·t,   G_s += ℓ(1 − t²)/det,
 *   ∂L/∂b += r,   ∂L/∂z_{j−1} = g + r·w.
 */
export const PLANAR_STACK_KERNEL = 'VaekitPlanarStack';
export const PLANAR_STACK_GRAD_KERNEL = 'VaekitPlanarStackGrad';

interface Dims {
  k: number;
  b: number;
  d: number;
  s: number;
  /** Rows of parameters: b or 1. */
  p: number;
}

function dims(z: readonly number[], p: readonly number[], kernel: string): Dims {
  if (z.length !== 3 || p.length !== 3) throw new Error(`${kernel}: expected z [K, B, D] and p [P, S, 2D + 1]; got [${z.join(', ')}] and [${p.join(', ')}]`);
  const [k, b, d] = z as [number, number, number];
  const [rows, s, width] = p as [number, number, number];
  if (width !== 2 * d + 1 || (rows !== b && rows !== 1) || s < 1) {
    throw new Error(`${kernel}: expected p of shape [${b} or 1, S ≥ 1, ${2 * d + 1}] for z [${z.join(', ')}]; got [${p.join(', ')}]`);
  }
  return { k, b, d, s, p: rows };
}

function softplus(a: number): number {
  return a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a));
}

function sigmoid(a: number): number {
  if (a >= 0) return 1 / (1 + Math.exp(-a));
  const e = Math.exp(a);
  return e / (1 + e);
}

/** Per-step working memory of the backward pass for one parameter row, reused across calls (kernels run one at a time). */
class Scratch {
  gUHat = new Float64Array(0);
  gWChain = new Float64Array(0);
  gS = new Float64Array(0);
  gB = new Float64Array(0);
  g = new Float64Array(0);

  fit(steps: number, d: number): this {
    if (this.gUHat.length < steps * d || this.gS.length < steps || this.g.length < d) {
      const sd = Math.max(steps * d, this.gUHat.length);
      const n = Math.max(steps, this.gS.length);
      this.gUHat = new Float64Array(sd);
      this.gWChain = new Float64Array(sd);
      this.gS = new Float64Array(n);
      this.gB = new Float64Array(n);
      this.g = new Float64Array(Math.max(d, this.g.length));
    }
    return this;
  }
}
const scratch = new Scratch();

/** Writes [û, s, c, a, ω, υ] `[S, D + 5]` of the S steps of parameter row `row` into `con`. */
function constrainRow(p: Float32Array, row: number, steps: number, d: number, con: Float32Array): void {
  const width = 2 * d + 1;
  const cw = d + 5;
  for (let j = 0; j < steps; j++) {
    const o = (row * steps + j) * width;
    const ow = o + d;
    const oc = (row * steps + j) * cw;
    let a = 0;
    let ww = 0;
    let uu = 0;
    for (let i = 0; i < d; i++) {
      const u = p[o + i]!;
      const w = p[ow + i]!;
      a += w * u;
      ww += w * w;
      uu += u * u;
    }
    const sM = softplus(a) + PLANAR_DET_FLOOR + PLANAR_ROUNDING * d * Math.sqrt(ww * uu + 1e-30);
    const c = ww > 0 ? (sM - 1 - a) / ww : 0;
    for (let i = 0; i < d; i++) con[oc + i] = p[o + i]! + c * p[ow + i]!;
    con[oc + d] = ww > 0 ? sM : 1;
    con[oc + d + 1] = c;
    con[oc + d + 2] = a;
    con[oc + d + 3] = ww;
    con[oc + d + 4] = uu;
  }
}

let yRow = new Float64Array(0);

const forwardKernel: HostKernel = {
  name: PLANAR_STACK_KERNEL,
  inputs: ['z', 'p'],
  outputShapes: ([z, p]) => {
    const { k, b, d, s, p: rows } = dims(z!, p!, PLANAR_STACK_KERNEL);
    return [
      [k, b, d + s],
      [rows, s, d + 5],
      [k, b, s, d + 1],
    ];
  },
  compute: ([zIn, pIn], [outIn, conIn, traceIn], shapes) => {
    const z = zIn!;
    const p = pIn!;
    const out = outIn!;
    const con = conIn!;
    const trace = traceIn!;
    const dm = dims(shapes[0]!, shapes[1]!, PLANAR_STACK_KERNEL);
    const { d, s: steps } = dm;
    const width = 2 * d + 1;
    const cw = d + 5;
    if (yRow.length < d) yRow = new Float64Array(d);
    const y = yRow;
    for (let row = 0; row < dm.p; row++) {
      constrainRow(p, row, steps, d, con);
      // The (sample, row) pairs kb = k·B + b using parameter row `row` (every pair when P = 1).
      const uses = dm.p === 1 ? dm.k * dm.b : dm.k;
      for (let use = 0; use < uses; use++) {
        const kb = dm.p === 1 ? use : use * dm.b + row;
        const oz = kb * d;
        for (let i = 0; i < d; i++) y[i] = z[oz + i]!;
        const o = kb * (d + steps);
        for (let j = 0; j < steps; j++) {
          const pw = (row * steps + j) * width + d;
          const oc = (row * steps + j) * cw;
          const ot = (kb * steps + j) * (d + 1);
          let pre = p[pw + d]!;
          for (let i = 0; i < d; i++) {
            const yi = y[i]!;
            trace[ot + i] = yi;
            pre += p[pw + i]! * yi;
          }
          const t = Math.tanh(pre);
          trace[ot + d] = t;
          for (let i = 0; i < d; i++) y[i] = y[i]! + t * con[oc + i]!;
          const t2 = t * t;
          out[o + d + j] = Math.log(con[oc + d]! * (1 - t2) + t2);
        }
        for (let i = 0; i < d; i++) out[o + i] = y[i]!;
      }
    }
  },
};

const backwardKernel: HostKernel = {
  name: PLANAR_STACK_GRAD_KERNEL,
  inputs: ['p', 'con', 'trace', 'dy'],
  outputShapes: ([p, con, trace, dy]) => {
    if (trace!.length !== 4) throw new Error(`${PLANAR_STACK_GRAD_KERNEL}: expected a trace [K, B, S, D + 1]; got [${trace!.join(', ')}]`);
    const [k, b, steps, d1] = trace! as [number, number, number, number];
    const { d, s, p: rows } = dims([k, b, d1 - 1], p!, PLANAR_STACK_GRAD_KERNEL);
    if (s !== steps || con!.join(',') !== [rows, s, d + 5].join(',') || dy!.join(',') !== [k, b, d + s].join(',')) {
      throw new Error(`${PLANAR_STACK_GRAD_KERNEL}: inconsistent shapes p [${p!.join(', ')}], con [${con!.join(', ')}], trace [${trace!.join(', ')}], dy [${dy!.join(', ')}]`);
    }
    return [[k, b, d], p!.slice()];
  },
  compute: ([p, con, trace, dy], [dz, dp], shapes) => {
    const [k, b, , d1] = shapes[2]! as [number, number, number, number];
    const dm = dims([k, b, d1 - 1], shapes[0]!, PLANAR_STACK_GRAD_KERNEL);
    const { d, s: steps } = dm;
    const width = 2 * d + 1;
    const cw = d + 5;
    const eps = PLANAR_ROUNDING * d;
    const sc = scratch.fit(steps, d);
    const { gUHat, gWChain, gS, gB, g } = sc;
    for (let row = 0; row < dm.p; row++) {
      gUHat.fill(0, 0, steps * d);
      gWChain.fill(0, 0, steps * d);
      gS.fill(0, 0, steps);
      gB.fill(0, 0, steps);
      const uses = dm.p === 1 ? dm.k * dm.b : dm.k;
      for (let use = 0; use < uses; use++) {
        const kb = dm.p === 1 ? use : use * dm.b + row;
        const o = kb * (d + steps);
        for (let i = 0; i < d; i++) g[i] = dy![o + i]!;
        for (let j = steps - 1; j >= 0; j--) {
          const pw = (row * steps + j) * width + d;
          const oc = (row * steps + j) * cw;
          const ot = (kb * steps + j) * (d + 1);
          const t = trace![ot + d]!;
          const t2 = t * t;
          const sech2 = 1 - t2;
          const sj = con![oc + d]!;
          const det = sj * sech2 + t2;
          const l = dy![o + d + j]!;
          let dot = 0;
          for (let i = 0; i < d; i++) dot += con![oc + i]! * g[i]!;
          const r = sech2 * (dot + (l * 2 * t * (1 - sj)) / det);
          for (let i = 0; i < d; i++) {
            gUHat[j * d + i]! += g[i]! * t;
            gWChain[j * d + i]! += r * trace![ot + i]!;
            g[i]! += r * p![pw + i]!;
          }
          gS[j]! += (l * sech2) / det;
          gB[j]! += r;
        }
        for (let i = 0; i < d; i++) dz![kb * d + i] = g[i]!;
      }
      // Through the constraint û = u + c·w, s = δ + softplus(a) to the raw u, w (see the comment above).
      for (let j = 0; j < steps; j++) {
        const o = (row * steps + j) * width;
        const oc = (row * steps + j) * cw;
        const c = con![oc + d + 1]!;
        const ww = con![oc + d + 3]!;
        let gA = 0;
        let gWw = 0;
        let gUu = 0;
        if (ww > 0) {
          const uu = con![oc + d + 4]!;
          let gC = 0;
          for (let i = 0; i < d; i++) gC += gUHat[j * d + i]! * p![o + d + i]!;
          const root = Math.sqrt(ww * uu + 1e-30);
          const dsdw = (eps * uu) / (2 * root);
          const dsdu = (eps * ww) / (2 * root);
          const sig = sigmoid(con![oc + d + 2]!);
          gA = (gC * (sig - 1)) / ww + gS[j]! * sig;
          gWw = (gC * (dsdw - c)) / ww + gS[j]! * dsdw;
          gUu = (gC * dsdu) / ww + gS[j]! * dsdu;
        }
        for (let i = 0; i < d; i++) {
          const u = p![o + i]!;
          const w = p![o + d + i]!;
          const gu = gUHat[j * d + i]!;
          dp![o + i] = gu + gA * w + 2 * gUu * u;
          dp![o + d + i] = c * gu + gA * u + 2 * gWw * w + gWChain[j * d + i]!;
        }
        dp![o + 2 * d] = gB[j]!;
      }
    }
  },
};

registerHostKernel(forwardKernel);
registerHostKernel(backwardKernel);

/** Whether the planar kernels run on the current backend (wasm or cpu, speed fixes on). */
export function planarKernelAvailable(): boolean {
  return hostKernelAvailable(PLANAR_STACK_KERNEL);
}

/**
 * The S steps through the kernels: z₀ `[K, B, D]`, p `[P, S, 2D + 1]` → `[K, B, D + S]`
 * ([z_S, log-det_1 … log-det_S]). Differentiable w.r.t. z₀ and p (first order only).
 */
export const planarStackKernel = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [z, p, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  const [out, con, trace] = runHostKernel(PLANAR_STACK_KERNEL, { z, p }) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor4D];
  save([p, con, trace]);
  return {
    value: out,
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => runHostKernel(PLANAR_STACK_GRAD_KERNEL, { p: saved[0]!, con: saved[1]!, trace: saved[2]!, dy }),
  };
}) as (z: tf.Tensor3D, p: tf.Tensor3D) => tf.Tensor3D;
