import { tf } from '../core/tf.js';
import { BIAS_TANH_WASM_BASE64 } from '../backend/bias-tanh-wasm.js';
import { hostKernelAvailable, registerHostKernel, runHostKernel } from '../backend/host-kernel.js';
import { HostWasm } from '../backend/host-wasm.js';
import { decodeBase64 } from '../backend/base64.js';

/**
 * A dense layer's bias and tanh as one kernel each way (wasm and cpu), in place of Add + Tanh
 * forward and the tanh gradient's three ops plus the bias gradient's reduction backward:
 *
 *   y = tanh(x + b),   ∂L/∂x = dy·(1 − y²),   ∂L/∂b = Σ_rows ∂L/∂x;
 *
 * and the bias alone (a layer with no activation: an encoder's heads, a decoder's output), in
 * place of Add forward and the broadcast gradient's reshape + Sum + reshape backward:
 *
 *   y = x + b,   ∂L/∂x = dy,   ∂L/∂b = Σ_rows dy.
 *
 * x `[M, N]` (the product x·W), b `[N]`. tanh is a float32 SIMD polynomial inside the module
 * (`../backend/assembly/bias-tanh.as.ts`), within 2e-7 relative (and 1e-7 absolute) of tfjs's
 * tanh; the gradient is the same float32 operations as tfjs's (bit-identical for the same y),
 * and the bias gradient sums rows in order. Tested against `tf.tanh(tf.add(x, b))` and its
 * autodiff on wasm and through the cpu copy.
 */
export const BIAS_TANH_KERNEL = 'VaekitBiasTanh';
export const BIAS_TANH_GRAD_KERNEL = 'VaekitBiasTanhGrad';
export const BIAS_ADD_KERNEL = 'VaekitBiasAdd';
export const BIAS_GRAD_KERNEL = 'VaekitBiasGrad';

const wasm = new HostWasm(decodeBase64(BIAS_TANH_WASM_BASE64), {});

/** x [M, N] and b [N], or an error naming the kernel and the shapes. */
function checkBias(kernel: string, x: readonly number[], b: readonly number[]): number[][] {
  if (x.length !== 2 || b.length !== 1 || b[0] !== x[1]) throw new Error(`${kernel}: expected x [M, N] and b [N]; got [${x.join(', ')}] and [${b.join(', ')}]`);
  return [x.slice()];
}

/** The forward module's vector constants (16 slots of 16 bytes: `CONSTANTS` in the AssemblyScript source), in float64 work elements. */
export const BIAS_TANH_CONSTANTS = 2 * 16;

registerHostKernel({
  name: BIAS_TANH_KERNEL,
  inputs: ['x', 'b'],
  outputShapes: ([x, b]) => checkBias(BIAS_TANH_KERNEL, x!, b!),
  workspace: () => BIAS_TANH_CONSTANTS,
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [m, n] = shapes[0]! as [number, number];
    // On a shared heap, large ones in chunks of columns over the kernel threads (the same bits).
    if (wasm.runSplit('forwardColumns', memory, { inputs, outputs, work }, [m, n, 0, n], 2, [0, n], 4, m)) return;
    wasm.run('forward', memory, { inputs, outputs, work }, [m, n]);
  },
});

registerHostKernel({
  name: BIAS_ADD_KERNEL,
  inputs: ['x', 'b'],
  outputShapes: ([x, b]) => checkBias(BIAS_ADD_KERNEL, x!, b!),
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [m, n] = shapes[0]! as [number, number];
    wasm.run('forwardLinear', memory, { inputs, outputs, work }, [m, n]);
  },
});

registerHostKernel({
  name: BIAS_GRAD_KERNEL,
  inputs: ['dy'],
  outputShapes: ([dy]) => {
    if (dy!.length !== 2) throw new Error(`${BIAS_GRAD_KERNEL}: expected dy [M, N]; got [${dy!.join(', ')}]`);
    return [[dy![1]!]];
  },
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [m, n] = shapes[0]! as [number, number];
    wasm.run('biasGradient', memory, { inputs, outputs, work }, [m, n]);
  },
});

registerHostKernel({
  name: BIAS_TANH_GRAD_KERNEL,
  inputs: ['y', 'dy'],
  outputShapes: ([y, dy]) => {
    if (y!.length !== 2 || dy!.join(',') !== y!.join(',')) throw new Error(`${BIAS_TANH_GRAD_KERNEL}: expected y and dy of one shape [M, N]; got [${y!.join(', ')}] and [${dy!.join(', ')}]`);
    return [y!.slice(), [y![1]!]];
  },
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [m, n] = shapes[0]! as [number, number];
    // Chunks of columns: each bias gradient still sums its column in row order (the same bits).
    if (wasm.runSplit('backwardColumns', memory, { inputs, outputs, work }, [m, n, 0, n], 2, [0, n], 4, m)) return;
    wasm.run('backward', memory, { inputs, outputs, work }, [m, n]);
  },
});

/** Whether the fused kernels (bias + tanh, bias alone) run on the current backend (wasm or cpu, speed fixes on). */
export function biasTanhAvailable(): boolean {
  return hostKernelAvailable(BIAS_TANH_KERNEL);
}

/** tanh(x + b) for x `[M, N]`, b `[N]`, differentiable w.r.t. both (call where `biasTanhAvailable()`). */
export const biasTanh = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const y = runHostKernel(BIAS_TANH_KERNEL, { x, b })[0]!;
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runHostKernel(BIAS_TANH_GRAD_KERNEL, { y: saved[0]!, dy }),
  };
}) as (x: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/** x + b for x `[M, N]`, b `[N]`, differentiable w.r.t. both (call where `biasTanhAvailable()`). */
export const biasAdd = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, b] = args as [tf.Tensor2D, tf.Tensor1D];
  return {
    value: runHostKernel(BIAS_ADD_KERNEL, { x, b })[0]!,
    // ∂L/∂x is dy itself (a clone: the tape owns what a gradient returns).
    gradFunc: (dy: tf.Tensor) => [dy.clone(), runHostKernel(BIAS_GRAD_KERNEL, { dy })[0]!],
  };
}) as (x: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
