import { nodeThreadModules } from './kernel-threads.js';
import { withSharedMemory } from './wasm-binary.js';

/**
 * tfjs-wasm's heap as a shared memory, so that vaekit's helper threads compute on the tensors
 * where they are (`gemm-threads.ts`) instead of on copies.
 *
 * tfjs-backend-wasm runs its one-thread SIMD module in Node; that module defines its own memory,
 * not shared. While the backend initialises, `WebAssembly.instantiate` is wrapped so that this
 * module's binary (recognised by its `wasi_snapshot_preview1` imports and a memory of its own) is
 * instantiated with that memory declared shared (`withSharedMemory`: one flag and a maximum in the
 * binary; the code is unchanged). Emscripten's loader reads the memory from the instance's
 * exports, so it works the same on a SharedArrayBuffer: growth keeps old views valid instead of
 * detaching them, and every typed array tfjs takes of the heap is a view of that buffer.
 *
 * Only where helper threads can exist (Node with `process.getBuiltinModule`) and unless
 * `VAEKIT_SHARED_HEAP=0`. If the binary cannot be read the original is used unchanged, and
 * everything still works with the copying helpers.
 */

interface InstantiateApi {
  instantiate(bytes: unknown, imports?: Record<string, unknown>): Promise<unknown>;
}

/** Whether tfjs-wasm's heap is to be shared in this thread. */
export function sharedHeapWanted(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.VAEKIT_SHARED_HEAP !== '0' && nodeThreadModules() !== undefined && typeof SharedArrayBuffer === 'function';
}

/**
 * Runs `init` (which initialises tfjs-wasm) with `WebAssembly.instantiate` patched to share the
 * heap of the module tfjs instantiates; the patch is removed when `init` settles.
 */
export async function withSharedTfjsHeap<T>(init: () => Promise<T>): Promise<T> {
  if (!sharedHeapWanted()) return init();
  const api = (globalThis as unknown as { WebAssembly: InstantiateApi }).WebAssembly;
  const original = api.instantiate;
  api.instantiate = function (this: unknown, source: unknown, imports?: Record<string, unknown>) {
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : undefined;
    if (bytes && imports && 'wasi_snapshot_preview1' in imports) {
      try {
        const shared = withSharedMemory(bytes);
        if (shared) return original.call(api, shared, imports);
      } catch {
        // An unreadable binary: instantiate it as it is.
      }
    }
    return original.call(api, source, imports);
  };
  try {
    return await init();
  } finally {
    api.instantiate = original;
  }
}

/** The heap a wasm backend's tensors live in, if it is shared. */
export function isSharedMemory(memory: { readonly buffer: ArrayBufferLike } | undefined): boolean {
  return memory !== undefined && typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
}

let inPlaceOn = true;

/**
 * Whether vaekit's kernels use `memory` as a shared heap (helpers on the tensors in place): a
 * shared memory, unless turned off with `setInPlaceKernels(false)`.
 */
export function inPlaceHeap(memory: { readonly buffer: ArrayBufferLike } | undefined): boolean {
  return inPlaceOn && isSharedMemory(memory);
}

/**
 * For A/B benches (`AB=in-place npx tsx bench/kernel-threads-ab.ts`): `false` makes the kernels
 * treat a shared heap as if it were not shared — products split on copies with side-by-side
 * gradient products, Adam, bias + tanh and the Bernoulli likelihood on one thread — as before the
 * heap was shared; `true` (the default) restores in-place work.
 */
export function setInPlaceKernels(on: boolean): void {
  inPlaceOn = on;
}
