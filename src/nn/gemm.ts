import { tf } from '../core/tf.js';
import { GEMM_WASM_BASE64 } from '../backend/gemm-wasm.js';
import { hostKernelAvailable, registerHostKernel, runHostKernel } from '../backend/host-kernel.js';
import { HostWasm } from '../backend/host-wasm.js';
import { decodeBase64 } from '../backend/base64.js';
import { splitGemm, type Block } from '../backend/gemm-threads.js';

/**
 * vaekit's matrix product C = op(A)·op(B) for dense layers on wasm (and cpu), op = identity or
 * transpose: a host kernel in WebAssembly SIMD (`../backend/assembly/gemm.as.ts`) that packs
 * op(B) into column panels and reads A in place through strides, so a transposed operand costs
 * no extra pass and no extra tensor.
 *
 * Why: tfjs-wasm multiplies with XNNPACK, which first packs the right operand into its own
 * layout and caches the packing per tensor. In training every right operand is new each step —
 * the weights after each Adam update, dY and the transposed operands of the gradients — so every
 * product pays XNNPACK's packing (35–50 % on top of the product for a fresh [200, 1010] weight),
 * and its transposed-operand products are ~7× slower than plain ones. This kernel gives the same
 * bits as `tf.matMul` (both sum each element in k order in float32; tested, every transpose).
 *
 * Gradients (first order) of Y = op(A)·op(B) are products of the same kernel with the transposes
 * in its flags (tfjs's formulas): for Y = A·B, dA = dY·Bᵀ and dB = Aᵀ·dY.
 */
export const GEMM_KERNEL = 'VaekitMatMul';

const wasm = new HostWasm(decodeBase64(GEMM_WASM_BASE64), {});

/** [M, K, N] of op(a)·op(b) from the stored shapes, or an error naming both. */
function dims(a: readonly number[], b: readonly number[], ta: boolean, tb: boolean): [number, number, number] {
  const [m, k] = ta ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [k2, n] = tb ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  if (a.length !== 2 || b.length !== 2 || k !== k2) {
    const what = `${ta ? 'aᵀ' : 'a'} and ${tb ? 'bᵀ' : 'b'}`;
    throw new Error(`${GEMM_KERNEL}: expected ${what} of shapes [M, K] and [K, N]; got a [${a.join(', ')}] and b [${b.join(', ')}]`);
  }
  return [m, k, n];
}

registerHostKernel({
  name: GEMM_KERNEL,
  inputs: ['a', 'b'],
  outputShapes: ([a, b], attrs) => {
    const [m, , n] = dims(a!, b!, attrs.transposeA === 1, attrs.transposeB === 1);
    return [[m, n]];
  },
  // The packed panels of op(B): K rows of ⌈N/8⌉·8 floats (two per float64 element).
  workspace: ([a, b], attrs) => {
    const [, k, n] = dims(a!, b!, attrs.transposeA === 1, attrs.transposeB === 1);
    return Math.ceil((k * Math.ceil(n / 8) * 8) / 2);
  },
  compute: (inputs, outputs, shapes, attrs, { work, memory }) => {
    const transA = attrs.transposeA === 1;
    const transB = attrs.transposeB === 1;
    const [m, k, n] = dims(shapes[0]!, shapes[1]!, transA, transB);
    const flags = [transA ? 1 : 0, transB ? 1 : 0];
    // Split over the kernel threads (this thread's block in place), or all here.
    const here = (block: Block) => wasm.run('gemmPart', memory, { inputs, outputs, work }, [m, k, n, ...flags, ...block]);
    if (splitGemm(inputs[0]!, inputs[1]!, outputs[0]!, { m, k, n, transA, transB }, here)) return;
    wasm.run('gemm', memory, { inputs, outputs, work }, [m, k, n, ...flags]);
  },
});

/** Whether `gemm` runs on the current backend (wasm or cpu, speed fixes not turned off). */
export function gemmAvailable(): boolean {
  return hostKernelAvailable(GEMM_KERNEL);
}

/**
 * op(a)·op(b) through the kernel, op(x) = xᵀ where the flag is set (call only where
 * `gemmAvailable()`): a `[M, K]` (or `[K, M]` transposed), b `[K, N]` (or `[N, K]`).
 */
export function gemm(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  return runHostKernel(GEMM_KERNEL, { a, b }, { transposeA: transposeA ? 1 : 0, transposeB: transposeB ? 1 : 0 })[0] as tf.Tensor2D;
}

tf.registerGradient({
  kernelName: GEMM_KERNEL,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [tf.Tensor2D, tf.Tensor2D];
    const d = dy as tf.Tensor2D;
    const ta = (attrs as { transposeA?: number }).transposeA === 1;
    const tb = (attrs as { transposeB?: number }).transposeB === 1;
    if (!ta && !tb) return { a: () => gemm(d, b, false, true), b: () => gemm(a, d, true, false) };
    if (!ta && tb) return { a: () => gemm(d, b), b: () => gemm(d, a, true, false) };
    if (ta && !tb) return { a: () => gemm(b, d, false, true), b: () => gemm(a, d) };
    return { a: () => gemm(b, d, true, true), b: () => gemm(d, a, true, true) };
  },
});
