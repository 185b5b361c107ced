import { decodeBase64 } from './base64.js';
import { BOX_MULLER_WASM_BASE64 } from './box-muller-wasm.js';

/**
 * `Random`'s standard normals in WebAssembly (`assembly/box-muller.as.ts`): the same float32
 * values and generator states as its JavaScript loop, bit for bit, ≈ 1.6× faster (19.5 instead of
 * 32 ns a value). The module's own log, cos and sin are used where they decide the float32
 * rounding with a margin, and JavaScript's `Math.log`, `Math.cos`, `Math.sin` (imported)
 * elsewhere, so the stream is the one JavaScript gives on the engine it runs on.
 */
export interface BoxMuller {
  /** Fills `out` (even length) with `out.length / 2` pairs drawn from mulberry32 state `state`; returns the state after them. */
  fill(out: Float32Array, state: number): number;
  /** The pair of normals of the uniforms ku·2⁻³² (ku ≥ 1) and kv·2⁻³² (for tests). */
  pair(ku: number, kv: number): [number, number];
  /** Pairs computed with the Math functions so far (≈ 1 in 800; for tests). */
  slowPairs(): number;
}

interface Exports {
  pairs(out: number, count: number, state: number): number;
  pair(ku: number, kv: number, out: number): void;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}

/** Pairs per call: the module writes into its two pages (8 bytes a pair), copied out after each call. */
const BLOCK_PAIRS = 16384;

let kernel: BoxMuller | null | undefined;
let enabled = true;

function load(): BoxMuller | null {
  const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!WA) return null;
  try {
    const memory = new WA.Memory({ initial: 2 });
    const module = new WA.Module(decodeBase64(BOX_MULLER_WASM_BASE64));
    // The slow path calls the imported log once a pair: counted there.
    let slow = 0;
    const log = (v: number) => {
      slow++;
      return Math.log(v);
    };
    const x = new WA.Instance(module, { env: { memory, log, cos: Math.cos, sin: Math.sin } }).exports as Exports;
    const view = new Float32Array(memory.buffer, 0, 2 * BLOCK_PAIRS);
    return {
      fill(out, state) {
        for (let i = 0; i < out.length; i += 2 * BLOCK_PAIRS) {
          const n = Math.min(BLOCK_PAIRS, (out.length - i) >> 1);
          state = x.pairs(0, n, state) >>> 0;
          out.set(view.subarray(0, 2 * n), i);
        }
        return state;
      },
      pair(ku, kv) {
        x.pair(ku, kv, 0);
        return [view[0]!, view[1]!];
      },
      slowPairs: () => slow,
    };
  } catch {
    return null;
  }
}

/** The kernel, or null where WebAssembly is unavailable or turned off (`useBoxMullerKernel(false)`): then `Random` uses its JavaScript loop. */
export function boxMullerKernel(): BoxMuller | null {
  if (!enabled) return null;
  if (kernel === undefined) kernel = load();
  return kernel;
}

/** For A/B benches and tests: `false` makes `Random` draw its normals in JavaScript (the same values, slower). */
export function useBoxMullerKernel(on: boolean): void {
  enabled = on;
}
