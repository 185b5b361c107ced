import { tf } from '../core/tf.js';
import { BIAS_TANH_WASM_BASE64 } from '../backend/bias-tanh-wasm.js';
import { hostKernelAvailable, registerHostKernel, runHostKernel } from '../backend/host-kernel.js';
import { HostWasm } from '../backend/host-wasm.js';
import { decodeBase64 } from '../backend/base64.js';

/**
 * A dense layer's bias and tanh as one kernel each way (wasm and cpu), in place of Add + Tanh
 * forward and the tanh gradient's three ops plus the bias gradient's reduction backward:
 *
 *   y = tanh(x + b),   ∂L/∂x = dy·(1 − y²),   ∂L/∂b = Σ_rows ∂L/∂x.
 *
 * x `[M, N]` (the product x·W), b `[N]`. tanh is a float32 SIMD polynomial inside the module
 * (`../backend/assembly/bias-tanh.as.ts`), within 2e-7 relative (and 1e-7 absolute) of tfjs's
 * tanh; the gradient is the same float32 operations as tfjs's (bit-identical for the same y),
 * and the bias gradient sums rows in order. Tested against `tf.tanh(tf.add(x, b))` and its
 * autodiff on wasm and through the cpu copy.
 */
export const BIAS_TANH_KERNEL = 'VaekitBiasTanh';
export const BIAS_TANH_GRAD_KERNEL = 'VaekitBiasTanhGrad';

const wasm = new HostWasm(decodeBase64(BIAS_TANH_WASM_BASE64), {});

registerHostKernel({
  name: BIAS_TANH_KERNEL,
  inputs: ['x', 'b'],
  outputShapes: ([x, b]) => {
    if (x!.length !== 2 || b!.length !== 1 || b![0] !== x![1]) throw new Error(`${BIAS_TANH_KERNEL}: expected x [M, N] and b [N]; got [${x!.join(', ')}] and [${b!.join(', ')}]`);
    return [x!.slice()];
  },
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [m, n] = shapes[0]! as [number, number];
    wasm.run('forward', memory, { inputs, outputs, work }, [m, n]);
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
    wasm.run('backward', memory, { inputs, outputs, work }, [m, n]);
  },
});

/** Whether the fused kernels run on the current backend (wasm or cpu, speed fixes on). */
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
