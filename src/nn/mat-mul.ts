import { tf } from '../core/tf.js';
import { gemm, gemmAvailable } from './gemm.js';
import { wasmSpeedFixesActive } from '../backend/speed-fixes.js';

/**
 * The transposed-operand fix for matMul gradients on wasm.
 *
 * For Y = A·B, tfjs's gradient is dA = dY·Bᵀ and dB = Aᵀ·dY, computed with transposed-operand
 * matMuls (`matMul(dY, B, false, true)`, `matMul(A, dY, true, false)`). On the wasm backend a
 * matMul with a transposed operand runs ~7–9× slower than a plain one of the same size. With
 * the fix, the operand is transposed explicitly (a copy, O(n·m)) and the product is plain
 * (O(n·m·k)): the same numbers, summed in the same order per output element, so gradients
 * agree with tfjs's to float32 rounding (tests: max |Δ| ≤ 1e-5 for every layer shape).
 *
 * The fix is a gradient registered for the `BatchMatMul` kernel, so it covers every
 * `tf.matMul` in the process (layers, flows, user code), and each gradient is computed only
 * when the tape needs it (the data input of a first layer gets none). It is active on the
 * wasm backend unless `setSpeedFixes(false)` turns it off (`true` forces it everywhere; `null`
 * restores the default; see `../backend/speed-fixes.ts`). The decision is made when the
 * gradient is computed.
 */

/** Swaps the last two axes (a matrix transpose, batched over leading axes). */
function swapLast(x: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return tf.transpose(x);
  const perm = [...Array(x.rank).keys()];
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1]!, perm[x.rank - 2]!];
  return tf.transpose(x, perm);
}

/**
 * x·y with optional transposes, as a plain matMul of explicitly transposed operands. On wasm a
 * plain matMul also packs its right operand (XNNPACK) on every call with new values, at a cost
 * like a copy of it. For x·yᵀ (x `[M, N]`, y `[K, N]`: the input gradient dY·Wᵀ of a layer),
 * transposing and packing y costs ~2·K·N; the same product as (y·xᵀ)ᵀ costs ~2·M·N + K·M, less
 * when the batch M is small next to the layer's width (measured, M = 100, K = 200, N = 1010:
 * 3.1 → 2.3 ms; at M = 1000 the first form stays, 16 vs 21 ms).
 */
function plainMatMul(x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean): tf.Tensor {
  if (x.rank === 2 && y.rank === 2 && !tx && ty) {
    const [m, n] = x.shape as [number, number];
    const k = y.shape[0]!;
    if (2 * m * n + k * m < 2 * k * n) return tf.transpose(tf.matMul(y, tf.transpose(x)));
  }
  return tf.matMul(tx ? swapLast(x) : x, ty ? swapLast(y) : y);
}

/** The gradient of Y = op(A)·op(B), op = transpose when the flag is set (tfjs's formulas). */
function batchMatMulGrad(mm: (x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean) => tf.Tensor) {
  return (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap): Record<string, () => tf.Tensor> => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return { a: () => mm(dy, b, false, true), b: () => mm(a, dy, true, false) };
    if (!transposeA && transposeB) return { a: () => mm(dy, b, false, false), b: () => mm(dy, a, true, false) };
    if (transposeA && !transposeB) return { a: () => mm(b, dy, false, true), b: () => mm(a, dy, false, false) };
    return { a: () => mm(b, dy, true, true), b: () => mm(dy, a, true, true) };
  };
}

const fastGrad = batchMatMulGrad(plainMatMul);
const tfjsGrad = batchMatMulGrad((x, y, tx, ty) => tf.matMul(x, y, tx, ty));

const matMulGradConfig: tf.GradConfig = {
  kernelName: 'BatchMatMul',
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => (wasmSpeedFixesActive() ? fastGrad : tfjsGrad)(dy as tf.Tensor, saved, attrs),
};

/**
 * Registers this module's BatchMatMul gradient, replacing (quietly) whatever is registered. Runs
 * on import; `selectBackend` runs it again after loading tfjs-node, whose `@tensorflow/tfjs`
 * re-registers tfjs's own gradients (so switching to wasm later still gets the fix).
 */
export function installMatMulGradient(): void {
  if (tf.getGradient('BatchMatMul') === matMulGradConfig) return;
  if (tf.getGradient('BatchMatMul') != null) tf.unregisterGradient('BatchMatMul');
  tf.registerGradient(matMulGradConfig);
}
installMatMulGradient();

/**
 * Dense-layer matrix product a·b (a `[N, I]`, b `[I, O]`): vaekit's own product (`gemm.ts`) on
 * wasm and cpu, tfjs's matMul elsewhere or with `setSpeedFixes(false)` (its gradient then takes
 * the fast form above where that is active).
 */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return gemmAvailable() ? gemm(a, b) : tf.matMul(a, b);
}
