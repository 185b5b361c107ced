import { tf } from './tf.js';
import { LOG_2PI } from './math.js';
import { hostKernelAvailable, registerHostKernel, runHostKernel } from '../backend/host-kernel.js';
import { HostWasm } from '../backend/host-wasm.js';
import { decodeBase64 } from '../backend/base64.js';
import { NORMAL_WASM_BASE64 } from '../backend/normal-wasm.js';

/**
 * The diagonal Normal's three hot formulas as host kernels (wasm, cpu; `../backend/host-kernel.ts`),
 * one kernel each way in place of a chain of ~8 tfjs ops forward and as many backward:
 *
 *   sample   z = μ + σ ⊙ ε,  σ = exp(log σ)                       ∂z: dμ = Σ_k dz, d log σ = Σ_k dz·σ·ε, dε = dz·σ
 *   log q    log q = −½ Σ_d ε_d² − Σ_d log σ_d − (D/2) log 2π       ∂: d log σ_d = −Σ_k dlogq, dε = −dlogq·ε
 *   KL       KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ_d (μ_d² + σ_d² − log σ_d² − 1)
 *                                                                 ∂: dμ = dkl·μ, d log σ = dkl·(σ² − 1)
 *
 * Shapes: μ, log σ `[B, D]`; ε and z `[K, B, D]`; log q `[K, B]`; KL `[B]`. Arithmetic is float32
 * in the order of the tfjs-op path (`diagonal-normal.ts`, `kl-rule.ts`), each sum in index order,
 * in WebAssembly SIMD (`../backend/assembly/normal.as.ts`) with its own float32 e^x (within 1
 * float32 ulp of e^x), so results agree with the op path to a few float32 ulps (tested: values and
 * gradients, on wasm and through the cpu copy). In TypeScript with Math.exp these kernels took
 * 0.36 ms of a batch-100 training step (15 ns an element, mostly exp); here 0.07 ms (`bench/kernel-profile.ts`).
 */
export const NORMAL_SAMPLE_KERNEL = 'VaekitNormalSample';
export const NORMAL_SAMPLE_GRAD_KERNEL = 'VaekitNormalSampleGrad';
export const NORMAL_LOG_Q_KERNEL = 'VaekitNormalLogQ';
export const NORMAL_LOG_Q_GRAD_KERNEL = 'VaekitNormalLogQGrad';
export const NORMAL_KL_KERNEL = 'VaekitNormalKl';
export const NORMAL_KL_GRAD_KERNEL = 'VaekitNormalKlGrad';

const f32 = Math.fround;

const wasm = new HostWasm(decodeBase64(NORMAL_WASM_BASE64), {});

/** The module's vector constants (15 slots of 16 bytes: `CONSTANTS` in the AssemblyScript source), in float64 work elements. */
export const NORMAL_CONSTANTS = 2 * 15;

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** [K, B, D] of params `[B, D]` (one or two) against ε `[K, B, D]`, or an error naming the shapes. */
function sampleDims(kernel: string, params: readonly (readonly number[])[], eps: readonly number[]): [number, number, number] {
  const p = params[0]!;
  if (p.length !== 2 || params.some((q) => !same(q, p)) || eps.length !== 3 || eps[1] !== p[0] || eps[2] !== p[1]) {
    throw new Error(`${kernel}: expected parameters [B, D] and ε [K, B, D]; got ${params.map((q) => `[${q.join(', ')}]`).join(', ')} and ε [${eps.join(', ')}]`);
  }
  return [eps[0]!, p[0]!, p[1]!];
}

registerHostKernel({
  name: NORMAL_SAMPLE_KERNEL,
  inputs: ['mean', 'logStd', 'eps'],
  outputShapes: ([mean, logStd, eps]) => {
    sampleDims(NORMAL_SAMPLE_KERNEL, [mean!, logStd!], eps!);
    return [eps!.slice()];
  },
  workspace: () => NORMAL_CONSTANTS,
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [k, b, d] = sampleDims(NORMAL_SAMPLE_KERNEL, [shapes[0]!, shapes[1]!], shapes[2]!);
    wasm.run('sample', memory, { inputs, outputs, work }, [k, b * d]);
  },
});

registerHostKernel({
  name: NORMAL_SAMPLE_GRAD_KERNEL,
  inputs: ['logStd', 'eps', 'dz'],
  outputShapes: ([logStd, eps, dz]) => {
    sampleDims(NORMAL_SAMPLE_GRAD_KERNEL, [logStd!], eps!);
    if (!same(dz!, eps!)) throw new Error(`${NORMAL_SAMPLE_GRAD_KERNEL}: expected dz of ε's shape [${eps!.join(', ')}]; got [${dz!.join(', ')}]`);
    return [logStd!.slice(), logStd!.slice(), eps!.slice()];
  },
  workspace: () => NORMAL_CONSTANTS,
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [k, b, d] = sampleDims(NORMAL_SAMPLE_GRAD_KERNEL, [shapes[0]!], shapes[1]!);
    wasm.run('sampleGradient', memory, { inputs, outputs, work }, [k, b * d]);
  },
});

registerHostKernel({
  name: NORMAL_LOG_Q_KERNEL,
  inputs: ['logStd', 'eps'],
  outputShapes: ([logStd, eps]) => {
    const [k, b] = sampleDims(NORMAL_LOG_Q_KERNEL, [logStd!], eps!);
    return [[k, b]];
  },
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [k, b, d] = sampleDims(NORMAL_LOG_Q_KERNEL, [shapes[0]!], shapes[1]!);
    wasm.run('logQ', memory, { inputs, outputs, work }, [k, b, d, f32(0.5 * d * LOG_2PI)]);
  },
});

registerHostKernel({
  name: NORMAL_LOG_Q_GRAD_KERNEL,
  inputs: ['eps', 'dy'],
  outputShapes: ([eps, dy]) => {
    if (eps!.length !== 3 || !same(dy!, eps!.slice(0, 2))) throw new Error(`${NORMAL_LOG_Q_GRAD_KERNEL}: expected ε [K, B, D] and dy [K, B]; got [${eps!.join(', ')}] and [${dy!.join(', ')}]`);
    return [eps!.slice(1), eps!.slice()];
  },
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [k, b, d] = shapes[0]! as [number, number, number];
    wasm.run('logQGradient', memory, { inputs, outputs, work }, [k, b, d]);
  },
});

function klDims(kernel: string, mean: readonly number[], logStd: readonly number[]): [number, number] {
  if (mean.length !== 2 || !same(mean, logStd)) throw new Error(`${kernel}: expected μ and log σ of one shape [B, D]; got [${mean.join(', ')}] and [${logStd.join(', ')}]`);
  return [mean[0]!, mean[1]!];
}

registerHostKernel({
  name: NORMAL_KL_KERNEL,
  inputs: ['mean', 'logStd'],
  outputShapes: ([mean, logStd]) => [[klDims(NORMAL_KL_KERNEL, mean!, logStd!)[0]]],
  workspace: () => NORMAL_CONSTANTS,
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [b, d] = klDims(NORMAL_KL_KERNEL, shapes[0]!, shapes[1]!);
    wasm.run('kl', memory, { inputs, outputs, work }, [b, d]);
  },
});

registerHostKernel({
  name: NORMAL_KL_GRAD_KERNEL,
  inputs: ['mean', 'logStd', 'dy'],
  outputShapes: ([mean, logStd, dy]) => {
    const [b] = klDims(NORMAL_KL_GRAD_KERNEL, mean!, logStd!);
    if (!same(dy!, [b])) throw new Error(`${NORMAL_KL_GRAD_KERNEL}: expected dy [${b}]; got [${dy!.join(', ')}]`);
    return [mean!.slice(), mean!.slice()];
  },
  workspace: () => NORMAL_CONSTANTS,
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [b, d] = klDims(NORMAL_KL_GRAD_KERNEL, shapes[0]!, shapes[1]!);
    wasm.run('klGradient', memory, { inputs, outputs, work }, [b, d]);
  },
});

/**
 * Whether the fused kernels run here (wasm or cpu, speed fixes on) for μ, log σ `[B, D]` and ε
 * `[K, B, D]` (other broadcasts take the op path).
 */
export function normalKernelsAvailable(mean: tf.Tensor, logStd: tf.Tensor, eps?: tf.Tensor): boolean {
  if (!hostKernelAvailable(NORMAL_KL_KERNEL) || mean.rank !== 2 || !same(mean.shape, logStd.shape)) return false;
  return !eps || (eps.rank === 3 && eps.shape[1] === mean.shape[0] && eps.shape[2] === mean.shape[1]);
}

/** z = μ + exp(log σ)·ε, differentiable in all three (call where `normalKernelsAvailable`). */
export const fusedNormalSample = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [mean, logStd, eps, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor3D, tf.GradSaveFunc];
  save([logStd, eps]);
  return {
    value: runHostKernel(NORMAL_SAMPLE_KERNEL, { mean, logStd, eps })[0]!,
    gradFunc: (dz: tf.Tensor, saved: tf.Tensor[]) => runHostKernel(NORMAL_SAMPLE_GRAD_KERNEL, { logStd: saved[0]!, eps: saved[1]!, dz }),
  };
}) as (mean: tf.Tensor2D, logStd: tf.Tensor2D, eps: tf.Tensor3D) => tf.Tensor3D;

/** log N(μ + σε; μ, σ²) = −½Σε² − Σ log σ − (D/2) log 2π per sample `[K, B]`, differentiable in log σ and ε. */
export const fusedNormalLogQ = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [logStd, eps, save] = args as [tf.Tensor2D, tf.Tensor3D, tf.GradSaveFunc];
  save([eps]);
  return {
    value: runHostKernel(NORMAL_LOG_Q_KERNEL, { logStd, eps })[0]!,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runHostKernel(NORMAL_LOG_Q_GRAD_KERNEL, { eps: saved[0]!, dy }),
  };
}) as (logStd: tf.Tensor2D, eps: tf.Tensor3D) => tf.Tensor2D;

/** KL(N(μ, σ²) ‖ N(0, I)) per row `[B]`, differentiable in μ and log σ. */
export const fusedNormalKl = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [mean, logStd, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([mean, logStd]);
  return {
    value: runHostKernel(NORMAL_KL_KERNEL, { mean, logStd })[0]!,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runHostKernel(NORMAL_KL_GRAD_KERNEL, { mean: saved[0]!, logStd: saved[1]!, dy }),
  };
}) as (mean: tf.Tensor2D, logStd: tf.Tensor2D) => tf.Tensor1D;
