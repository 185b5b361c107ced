import { tf } from '../core/tf.js';

interface WasmHeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/**
 * Copies float32 tensor `t`'s values (or elements `from … to−1` of them) into `target` at
 * `offset`, without the intermediate array `dataSync` makes: on wasm straight from the tensor's
 * bytes on the heap (`dataSync` there slices the heap into a fresh ArrayBuffer, ~10× slower for
 * a few MB), elsewhere from `dataSync`.
 */
export function copyTensorInto(t: tf.Tensor, target: Float32Array, offset = 0, from = 0, to = t.size): void {
  if (t.dtype !== 'float32') throw new Error(`copyTensorInto: expected a float32 tensor; got ${t.dtype}`);
  if (from < 0 || to > t.size || from > to || offset + (to - from) > target.length) {
    throw new Error(`copyTensorInto: elements ${from}…${to} of ${t.size} do not fit ${target.length} values at offset ${offset}`);
  }
  if (tf.getBackend() === 'wasm') {
    const backend = tf.backend() as unknown as WasmHeapBackend;
    target.set(backend.typedArrayFromHeap(t).subarray(from, to), offset);
    return;
  }
  target.set((t.dataSync() as Float32Array).subarray(from, to), offset);
}
