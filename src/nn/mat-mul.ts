import { tf } from '../core/tf.js';
// Gradients are registered wherever layers exist (tfjs-core's Node entry registers none).
import '../backend/register-gradients.js';

/**
 * Dense-layer matrix product a·b (a `[N, I]`, b `[I, O]`) whose gradient uses only plain
 * (non-transposed) matMuls.
 *
 * tfjs's own matMul gradient computes dA = dY·Bᵀ and dB = Aᵀ·dY with transposed-operand
 * matMuls; on the wasm backend those run ~7–9× slower than a plain matMul of the same size.
 * Here the operand is transposed explicitly first (a cheap copy) and the product is plain.
 * The values are the same products, so gradients agree with tfjs's to float32 rounding.
 *
 * The fast form is used on backends listed in `fastGradientBackends` (wasm by default);
 * `setFastMatMul(false)` turns it off everywhere (for comparison benchmarks and tests).
 */
let enabled: boolean | null = null;
const fastGradientBackends = new Set(['wasm']);

export function setFastMatMul(on: boolean | null): void {
  enabled = on;
}

export function fastMatMulActive(): boolean {
  return enabled ?? fastGradientBackends.has(tf.getBackend());
}

const plainGradMatMul = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

export function matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return (fastMatMulActive() ? plainGradMatMul(a, b) : tf.matMul(a, b)) as tf.Tensor2D;
}
