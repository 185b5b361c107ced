import { tf } from '../core/tf.js';

/**
 * The one switch for every vaekit speed fix, in a module of its own so that everything it controls
 * can read it:
 *
 * - the plain-matMul gradient of `tf.matMul` (`../nn/mat-mul.ts`) and the wasm tensor-copy
 *   kernels (`wasm-kernels.ts`) — the wasm fixes, by default on wasm only;
 * - the host kernels (`host-kernel.ts`: vaekit's gemm, fused bias + tanh, Adam, and the planar and
 *   Bernoulli plugin kernels), by default on wasm and cpu;
 * - multi-threaded training (`../train/parallel`).
 *
 * `setSpeedFixes(false)` turns all of them off (tfjs's own kernels and gradients, one thread);
 * `true` forces the wasm fixes on every backend; `null` restores the defaults per backend.
 */
let setting: boolean | null = null;

/** `true`: always use the fast paths; `false`: never (tfjs's own kernels and gradients, one training thread); `null`: the default per backend. */
export function setSpeedFixes(on: boolean | null): void {
  setting = on;
}

/** The setting made with `setSpeedFixes` (`null`: the default per backend). */
export function speedFixesSetting(): boolean | null {
  return setting;
}

/** Backends on which the wasm fixes are on by default. */
const WASM_FIX_BACKENDS = new Set(['wasm']);

/** Whether the wasm fixes (plain-matMul gradient, tensor-copy kernels) are active now: `setSpeedFixes(true)`, or by default on wasm. */
export function wasmSpeedFixesActive(): boolean {
  return setting ?? WASM_FIX_BACKENDS.has(tf.getBackend());
}
