import { tf, HostWasm, decodeBase64, hostKernelAvailable, registerHostKernel, runHostKernel } from '../../src/index.js';
import type { HostKernel } from '../../src/index.js';
import { PLANAR_WASM_BASE64 } from './planar-wasm.js';

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
 * The kernels are WebAssembly (SIMD, two float64 lanes) compiled from AssemblyScript,
 * `assembly/planar-kernel.as.ts` (`npm run build:wasm`); on the wasm backend they run on the
 * tensors in tfjs's heap, on cpu through a copy (`HostWasm`). (Written as TypeScript loops they
 * took 3–4× as long: 1.4 of the 1.5 ms the chain cost per training step at batch 100.)
 * The constraint (c_j, s_j from m(a) = −1 + δ + softplus(a), δ = 1e-3 + 1e-6·D·‖w‖‖u‖; w = 0
 * gives û = u, s = 1) is `PlanarFlow.constrain`'s, and so is every formula: the two paths
 * agree to float32 rounding (tests: values and gradients, amortised and global, K = 1 … 3).
 * Arithmetic is in float64 inside the kernels; what they store (outputs, and the constraint and
 * trace below, which the forward pass itself reads back) is float32.
 *
 * Layout. Inputs z₀ `[K, B, D]`, the raw parameters p `[P, S, 2D + 1]`, each step's row
 * being [u (D), w (D), b (1)], with P = B (amortised: one set per row) or P = 1 (global,
 * broadcast over rows), and a bias `[S, 2D + 1]` added to every row of p (the amortised head's
 * bias: p = h·W, so its gradient, the sum of dp over rows, comes out of the backward kernel
 * instead of a separate reduction). Forward outputs: `[K, B, D + S]` = [z_S, log-det_1 …
 * log-det_S]; the constraint per parameter row and step `[P, S, D + 5]` = [û, s, c, a, ω, υ];
 * and the trace `[K, B, S, D + 1]` = [z_{j−1}, t_j] per step — the last two are kept for the
 * backward pass, which so recomputes nothing. (One output for z_S and the log-dets, split
 * afterwards, because `tf.customGrad` differentiates one output; registering the gradient on the
 * kernel instead makes tfjs upload zero gradients for the constraint and trace, 2.7 ms per step
 * at batch 1000.) Backward: inputs p, bias, the constraint, the trace and dy
 * `[K, B, D + S]`; outputs dz₀ `[K, B, D]`, dp `[P, S, 2D + 1]` (summed over samples, and over
 * rows when P = 1) and dbias (dp summed over rows). Both loop over parameter rows, then the
 * (sample, row) pairs using them.
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

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function dims(z: readonly number[], p: readonly number[], bias: readonly number[], kernel: string): Dims {
  if (z.length !== 3 || p.length !== 3) throw new Error(`${kernel}: expected z [K, B, D] and p [P, S, 2D + 1]; got [${z.join(', ')}] and [${p.join(', ')}]`);
  const [k, b, d] = z as [number, number, number];
  const [rows, s, width] = p as [number, number, number];
  if (width !== 2 * d + 1 || (rows !== b && rows !== 1) || s < 1) {
    throw new Error(`${kernel}: expected p of shape [${b} or 1, S ≥ 1, ${2 * d + 1}] for z [${z.join(', ')}]; got [${p.join(', ')}]`);
  }
  if (!same(bias, [s, width])) throw new Error(`${kernel}: expected a bias of shape [${s}, ${width}]; got [${bias.join(', ')}]`);
  return { k, b, d, s, p: rows };
}

const wasm = new HostWasm(decodeBase64(PLANAR_WASM_BASE64), { exp: Math.exp, log: Math.log, log1p: Math.log1p, tanh: Math.tanh });

const forwardKernel: HostKernel = {
  name: PLANAR_STACK_KERNEL,
  inputs: ['z', 'p', 'bias'],
  outputShapes: ([z, p, bias]) => {
    const { k, b, d, s, p: rows } = dims(z!, p!, bias!, PLANAR_STACK_KERNEL);
    return [
      [k, b, d + s],
      [rows, s, d + 5],
      [k, b, s, d + 1],
    ];
  },
  workspace: ([z]) => z![2]!,
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const { k, b, d, s, p } = dims(shapes[0]!, shapes[1]!, shapes[2]!, PLANAR_STACK_KERNEL);
    wasm.run('forward', memory, { inputs, outputs, work }, [k, b, d, s, p, PLANAR_DET_FLOOR, PLANAR_ROUNDING * d]);
  },
};

const backwardKernel: HostKernel = {
  name: PLANAR_STACK_GRAD_KERNEL,
  inputs: ['p', 'bias', 'con', 'trace', 'dy'],
  outputShapes: ([p, bias, con, trace, dy]) => {
    if (trace!.length !== 4) throw new Error(`${PLANAR_STACK_GRAD_KERNEL}: expected a trace [K, B, S, D + 1]; got [${trace!.join(', ')}]`);
    const [k, b, steps, d1] = trace! as [number, number, number, number];
    const { d, s, p: rows } = dims([k, b, d1 - 1], p!, bias!, PLANAR_STACK_GRAD_KERNEL);
    if (s !== steps || !same(con!, [rows, s, d + 5]) || !same(dy!, [k, b, d + s])) {
      throw new Error(`${PLANAR_STACK_GRAD_KERNEL}: inconsistent shapes p [${p!.join(', ')}], con [${con!.join(', ')}], trace [${trace!.join(', ')}], dy [${dy!.join(', ')}]`);
    }
    return [[k, b, d], p!.slice(), bias!.slice()];
  },
  // G_û, the chain's ∂L/∂w [S·D each], G_s, ∂L/∂b [S each], g [D], dbias [S·(2D + 1)].
  workspace: ([p, , , trace]) => {
    const [, s, d1] = trace!.slice(1) as [number, number, number];
    const d = d1 - 1;
    return 2 * s * d + 2 * s + d + p![1]! * p![2]!;
  },
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [k, b, , d1] = shapes[3]! as [number, number, number, number];
    const { d, s, p } = dims([k, b, d1 - 1], shapes[0]!, shapes[1]!, PLANAR_STACK_GRAD_KERNEL);
    wasm.run('backward', memory, { inputs, outputs, work }, [k, b, d, s, p, PLANAR_ROUNDING * d]);
  },
};

registerHostKernel(forwardKernel);
registerHostKernel(backwardKernel);

/** Whether the planar kernels run on the current backend (wasm or cpu, speed fixes on). */
export function planarKernelAvailable(): boolean {
  return hostKernelAvailable(PLANAR_STACK_KERNEL);
}

/**
 * The S steps through the kernels: z₀ `[K, B, D]`, p `[P, S, 2D + 1]`, bias `[S, 2D + 1]` →
 * `[K, B, D + S]` ([z_S, log-det_1 … log-det_S]). Differentiable w.r.t. z₀, p and bias (first
 * order only).
 */
export const planarStackKernel = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [z, p, bias, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.GradSaveFunc];
  const [out, con, trace] = runHostKernel(PLANAR_STACK_KERNEL, { z, p, bias }) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor4D];
  save([p, bias, con, trace]);
  return {
    value: out,
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) =>
      runHostKernel(PLANAR_STACK_GRAD_KERNEL, { p: saved[0]!, bias: saved[1]!, con: saved[2]!, trace: saved[3]!, dy }),
  };
}) as (z: tf.Tensor3D, p: tf.Tensor3D, bias: tf.Tensor2D) => tf.Tensor3D;
