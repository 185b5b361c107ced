import { tf } from '../core/tf.js';
import { GEMM_WASM_BASE64 } from '../backend/gemm-wasm.js';
import { hostHeap, hostKernelAvailable, registerHostKernel, runHostKernel } from '../backend/host-kernel.js';
import { HostWasm } from '../backend/host-wasm.js';
import { decodeBase64 } from '../backend/base64.js';
import { collectSideGemm, sideBySideAvailable, splitGemm, startSideGemm, type Block } from '../backend/gemm-threads.js';
import { kernelThreads } from '../backend/kernel-threads.js';
import { inPlaceHeap } from '../backend/shared-heap.js';

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

/** The packed panels of op(B): K rows of ⌈N/8⌉·8 floats (two per float64 element). */
function packSpace(a: readonly number[], b: readonly number[], ta: boolean, tb: boolean): number {
  const [, k, n] = dims(a, b, ta, tb);
  return Math.ceil((k * Math.ceil(n / 8) * 8) / 2);
}

/** A packing area for each kernel thread (a product split in place by rows gives each thread its own; in chunks of panels they share the first). */
function splitPackSpace(a: readonly number[], b: readonly number[], ta: boolean, tb: boolean): number {
  return packSpace(a, b, ta, tb) * kernelThreads();
}

/** [[M, N]] of op(a)·op(b) (attrs transposeA, transposeB). */
function productShape([a, b]: readonly number[][], attrs: Readonly<Record<string, number>>): number[][] {
  const [m, , n] = dims(a!, b!, attrs.transposeA === 1, attrs.transposeB === 1);
  return [[m, n]];
}

registerHostKernel({
  name: GEMM_KERNEL,
  inputs: ['a', 'b'],
  outputShapes: productShape,
  workspace: ([a, b], attrs) => splitPackSpace(a!, b!, attrs.transposeA === 1, attrs.transposeB === 1),
  compute: (inputs, outputs, shapes, attrs, { work, memory }) => {
    const transA = attrs.transposeA === 1;
    const transB = attrs.transposeB === 1;
    const [m, k, n] = dims(shapes[0]!, shapes[1]!, transA, transB);
    const flags = [transA ? 1 : 0, transB ? 1 : 0];
    // Split over the kernel threads (this thread's block in place; on a shared heap the helpers' too), or all here.
    const here = (block: Block) => wasm.run('gemmPart', memory, { inputs, outputs, work }, [m, k, n, ...flags, ...block]);
    const inPlace = memory && inPlaceHeap(memory) ? { memory, work: work.byteOffset } : undefined;
    if (splitGemm(inputs[0]!, inputs[1]!, outputs[0]!, { m, k, n, transA, transB }, here, inPlace)) return;
    wasm.run('gemm', memory, { inputs, outputs, work }, [m, k, n, ...flags]);
  },
});

/**
 * Two independent products side by side (a dense layer's backward pass: dX and dW): outputs
 * op(a)·op(b), computed here, while a helper thread computes op(sa)·op(sb) (`startSideGemm`;
 * collected by `GEMM_SIDE_KERNEL` with the job id `lastSideJob` holds after the call).
 */
const GEMM_PAIR_KERNEL = 'VaekitMatMulPair';
/** The helper's product of a `GEMM_PAIR_KERNEL` call (attr `job`), or the product computed here when that job is gone. */
const GEMM_SIDE_KERNEL = 'VaekitMatMulSide';

let lastSideJob: number | undefined;

registerHostKernel({
  name: GEMM_PAIR_KERNEL,
  inputs: ['a', 'b', 'sa', 'sb'],
  outputShapes: (shapes, attrs) => {
    dims(shapes[2]!, shapes[3]!, attrs.sideTransposeA === 1, attrs.sideTransposeB === 1);
    return productShape(shapes, attrs);
  },
  workspace: ([a, b], attrs) => packSpace(a!, b!, attrs.transposeA === 1, attrs.transposeB === 1),
  compute: (inputs, outputs, shapes, attrs, { work, memory }) => {
    const [sm, sk, sn] = dims(shapes[2]!, shapes[3]!, attrs.sideTransposeA === 1, attrs.sideTransposeB === 1);
    lastSideJob = startSideGemm(inputs[2]!, inputs[3]!, { m: sm, k: sk, n: sn, transA: attrs.sideTransposeA === 1, transB: attrs.sideTransposeB === 1 });
    const [m, k, n] = dims(shapes[0]!, shapes[1]!, attrs.transposeA === 1, attrs.transposeB === 1);
    wasm.run('gemm', memory, { inputs: inputs.slice(0, 2), outputs, work }, [m, k, n, attrs.transposeA ?? 0, attrs.transposeB ?? 0]);
  },
});

registerHostKernel({
  name: GEMM_SIDE_KERNEL,
  inputs: ['a', 'b'],
  outputShapes: productShape,
  workspace: ([a, b], attrs) => packSpace(a!, b!, attrs.transposeA === 1, attrs.transposeB === 1),
  compute: (inputs, outputs, shapes, attrs, { work, memory }) => {
    if (collectSideGemm(attrs.job!, outputs[0]!)) return;
    const [m, k, n] = dims(shapes[0]!, shapes[1]!, attrs.transposeA === 1, attrs.transposeB === 1);
    wasm.run('gemm', memory, { inputs, outputs, work }, [m, k, n, attrs.transposeA ?? 0, attrs.transposeB ?? 0]);
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

/** One product of a gradient: op(x)·op(y). */
type Product = [tf.Tensor2D, tf.Tensor2D, boolean, boolean];

/**
 * The two products of a gradient, dA and dB, as the tape asks for them: dA first (when A needs
 * a gradient) then dB. With two kernel threads, a heap that is not shared (cpu) and a dB large
 * enough, asking for dA starts dB on the helper thread and computes dA here; asking for dB then
 * collects the helper's result (`GEMM_PAIR_KERNEL`, `GEMM_SIDE_KERNEL`; the same bits as `gemm`,
 * every element computed alike). Otherwise (a shared heap, dB asked alone, one thread, small
 * products) each is `gemm`, split over the threads where large. The products have no gradients of their own on the side-by-side path; second
 * derivatives through `gemm` take the plain path (the tape is recording then).
 */
function gradientProducts(da: Product, db: Product): { a: () => tf.Tensor; b: () => tf.Tensor } {
  const [sa, sb, sta, stb] = db;
  const [dm, dk, dn] = dims(sa.shape, sb.shape, sta, stb);
  let job: number | undefined;
  return {
    a: () => {
      const [x, y, tx, ty] = da;
      // On a shared heap each product is split in place instead (no copies to save).
      if (tf.engine().isTapeOn() || inPlaceHeap(hostHeap()) || !sideBySideAvailable(dm * dk * dn)) return gemm(x, y, tx, ty);
      const flags = { transposeA: tx ? 1 : 0, transposeB: ty ? 1 : 0, sideTransposeA: sta ? 1 : 0, sideTransposeB: stb ? 1 : 0 };
      lastSideJob = undefined;
      const out = runHostKernel(GEMM_PAIR_KERNEL, { a: x, b: y, sa, sb }, flags)[0]!;
      job = lastSideJob;
      return out;
    },
    b: () => {
      if (job === undefined) return gemm(sa, sb, sta, stb);
      const id = job;
      job = undefined;
      return runHostKernel(GEMM_SIDE_KERNEL, { a: sa, b: sb }, { transposeA: sta ? 1 : 0, transposeB: stb ? 1 : 0, job: id })[0]!;
    },
  };
}

tf.registerGradient({
  kernelName: GEMM_KERNEL,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [tf.Tensor2D, tf.Tensor2D];
    const d = dy as tf.Tensor2D;
    const ta = (attrs as { transposeA?: number }).transposeA === 1;
    const tb = (attrs as { transposeB?: number }).transposeB === 1;
    if (!ta && !tb) return gradientProducts([d, b, false, true], [a, d, true, false]);
    if (!ta && tb) return gradientProducts([d, b, false, false], [d, a, true, false]);
    if (ta && !tb) return gradientProducts([b, d, false, true], [a, d, false, false]);
    return gradientProducts([b, d, true, true], [d, a, true, true]);
  },
});
