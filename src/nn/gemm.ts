import { tf } from '../core/tf.js';
import { GEMM_WASM_BASE64 } from '../backend/gemm-wasm.js';
import { hostKernelAvailable, registerHostKernel, runHostKernel } from '../backend/host-kernel.js';
import { HostWasm } from '../backend/host-wasm.js';
import { decodeBase64 } from '../backend/base64.js';

/**
 * vaekit's matrix product C = A·B for dense layers on wasm (and cpu): a host kernel in
 * WebAssembly SIMD (`../backend/assembly/gemm.as.ts`) that reads B in place.
 *
 * Why: tfjs-wasm multiplies with XNNPACK, which first packs the right operand into its own
 * layout and caches the packing per tensor. In training every right operand is new each step —
 * the weights after each Adam update, dY and the transposed operands of the gradients — so every
 * product pays the packing: ~3 ns per element of B, ~2 ms of a 16 ms diagonal-Gaussian step at
 * batch 100 (CPU profile) and 35–50 % on top of the product itself for a fresh [200, 1010]
 * weight. This kernel is as fast as XNNPACK's with the packing cached and gives the same bits
 * (both sum each element in k order in float32; tested against `tf.matMul`).
 *
 * Gradients (first order), with the transposes explicit because only plain products are fast:
 *   dA = dC·Bᵀ as dC·(Bᵀ) or (B·dCᵀ)ᵀ,   dB = Aᵀ·dC as (Aᵀ)·dC or (dCᵀ·A)ᵀ,
 * whichever copies fewer elements.
 */
export const GEMM_KERNEL = 'VaekitMatMul';

const wasm = new HostWasm(decodeBase64(GEMM_WASM_BASE64), {});

registerHostKernel({
  name: GEMM_KERNEL,
  inputs: ['a', 'b'],
  outputShapes: ([a, b]) => {
    if (a!.length !== 2 || b!.length !== 2 || a![1] !== b![0]) {
      throw new Error(`${GEMM_KERNEL}: expected a [M, K] and b [K, N]; got [${a!.join(', ')}] and [${b!.join(', ')}]`);
    }
    return [[a![0]!, b![1]!]];
  },
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const [m, k] = shapes[0]! as [number, number];
    wasm.run('gemm', memory, { inputs, outputs, work }, [m, k, shapes[1]![1]!]);
  },
});

/** Whether `gemm` runs on the current backend (wasm or cpu, speed fixes not turned off). */
export function gemmAvailable(): boolean {
  return hostKernelAvailable(GEMM_KERNEL);
}

/** a `[M, K]` · b `[K, N]` through the kernel (call only where `gemmAvailable()`). */
export function gemm(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return runHostKernel(GEMM_KERNEL, { a, b })[0] as tf.Tensor2D;
}

tf.registerGradient({
  kernelName: GEMM_KERNEL,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved as [tf.Tensor2D, tf.Tensor2D];
    const dc = dy as tf.Tensor2D;
    const [m, k] = a.shape;
    const n = b.shape[1];
    return {
      a: () => (k * n <= m * n + k * m ? gemm(dc, tf.transpose(b)) : tf.transpose(gemm(b, tf.transpose(dc)))),
      b: () => (m * k <= m * n + n * k ? gemm(tf.transpose(a), dc) : tf.transpose(gemm(tf.transpose(dc), a))),
    };
  },
});
