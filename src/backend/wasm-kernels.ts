import { tf } from '../core/tf.js';
import { wasmSpeedFixesActive } from './speed-fixes.js';

/**
 * Copy-free `Identity` and same-dtype `Cast` kernels, and copy-once `Slice` and `SplitV`
 * kernels, for the wasm backend.
 *
 * While a gradient tape records, tfjs's engine saves every input and output a gradient needs
 * as `keep(clone(t))`, and tfjs's gradient code casts float32 tensors to float32
 * (`mul(dy, cast(b, 'float32'))`). On wasm both kernels copy the whole buffer; a 10-step planar
 * flow step makes ~1000 such copies per training step (`tf.profile`: 766 Identity, 257 Cast).
 * Tensors are immutable (a Variable's `assign` swaps its buffer, it never writes into one), so
 * these kernels can share the input's buffer with a reference count instead, as tfjs's cpu
 * backend does for Identity and wasm already does for Reshape. Values are unchanged bit for bit.
 *
 * tfjs-wasm's `Slice` (and `SplitV`, which slices once per output) first reads the WHOLE input
 * back with `readSync` (a fresh ArrayBuffer copy of the heap region) and then copies the slice
 * out of it: splitting λ = [μ, log σ, h] `[1000, 300]` into three took 21 ms of a 190 ms training
 * step (large short-lived ArrayBuffers also push V8 into extra garbage collections). These
 * versions copy only the slice, straight from a view on the wasm heap. Values are unchanged bit
 * for bit (a copy).
 *
 * Active while the wasm speed fixes are (`wasmSpeedFixesActive()`; `setSpeedFixes(false)` turns
 * them off, giving tfjs's own kernels). Other dtype conversions and string tensors use the
 * original kernels.
 */
let installed = false;
/** Dtypes the wasm backend keeps as plain typed arrays on its heap. */
const HEAP_DTYPES = new Set<string>(['float32', 'int32', 'bool']);

interface WasmBackendLike {
  incRef(dataId: unknown): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface KernelArgs {
  inputs: { x: tf.TensorInfo };
  attrs?: { dtype?: string; begin?: number | number[]; size?: number | number[]; numOrSizeSplits?: number | number[]; axis?: number | number[] };
  backend: WasmBackendLike;
}

/**
 * The slice of x starting at `begin` with extent `size` (both full-rank), copied straight from
 * the heap: runs of consecutive elements (the last axis, merged with any trailing axes taken
 * whole) are copied one by one.
 */
function sliceFromHeap(backend: WasmBackendLike, x: tf.TensorInfo, begin: readonly number[], size: readonly number[]): tf.TensorInfo {
  const out = backend.makeOutput(size.slice(), x.dtype);
  if (size.some((n) => n === 0)) return out;
  // Views after the allocation (it may grow the heap and detach older views).
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const shape = x.shape;
  const rank = shape.length; // ≥ 1 (tfjs rejects slicing a scalar before the kernel runs)
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  // Axes after `a` are taken whole: each run covers size[a] slabs of strides[a] elements.
  let a = rank - 1;
  while (a > 0 && size[a] === shape[a]) a--;
  const run = size[a]! * strides[a]!;
  const index = new Array<number>(a).fill(0);
  let written = 0;
  for (;;) {
    let from = begin[a]! * strides[a]!;
    for (let i = 0; i < a; i++) from += (begin[i]! + index[i]!) * strides[i]!;
    if (run < 64) for (let k = 0; k < run; k++) dst[written + k] = src[from + k]!;
    else dst.set(src.subarray(from, from + run), written);
    written += run;
    let i = a - 1;
    while (i >= 0 && ++index[i]! === size[i]!) index[i--] = 0;
    if (i < 0) break;
  }
  return out;
}

function share(x: tf.TensorInfo, backend: KernelArgs['backend']): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Installs the kernels once the wasm backend's kernels are registered; returns whether they are installed. */
export function installWasmKernels(): boolean {
  if (installed) return true;
  const identity = tf.getKernel('Identity', 'wasm');
  const cast = tf.getKernel('Cast', 'wasm');
  const slice = tf.getKernel('Slice', 'wasm');
  const splitV = tf.getKernel('SplitV', 'wasm');
  if (!identity || !cast || !slice || !splitV) return false;
  const replace = (original: tf.KernelConfig, kernelFunc: tf.KernelFunc) => {
    tf.unregisterKernel(original.kernelName, 'wasm');
    tf.registerKernel({ ...original, kernelFunc });
  };
  replace(identity, (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    if (!wasmSpeedFixesActive() || inputs.x.dtype === 'string') return identity.kernelFunc(args);
    return share(inputs.x, backend);
  });
  replace(cast, (args) => {
    const { inputs, attrs, backend } = args as unknown as KernelArgs;
    if (!wasmSpeedFixesActive() || attrs?.dtype !== inputs.x.dtype || inputs.x.dtype === 'string') return cast.kernelFunc(args);
    return share(inputs.x, backend);
  });
  replace(slice, (args) => {
    const { inputs, attrs, backend } = args as unknown as KernelArgs;
    if (!wasmSpeedFixesActive() || !HEAP_DTYPES.has(inputs.x.dtype)) return slice.kernelFunc(args);
    const [begin, size] = tf.slice_util.parseSliceParams(inputs.x as tf.Tensor, attrs!.begin!, attrs!.size);
    return sliceFromHeap(backend, inputs.x, begin, size);
  });
  replace(splitV, (args) => {
    const { inputs, attrs, backend } = args as unknown as KernelArgs;
    if (!wasmSpeedFixesActive() || !HEAP_DTYPES.has(inputs.x.dtype)) return splitV.kernelFunc(args);
    const x = inputs.x;
    const axis = tf.util.parseAxisParam(attrs!.axis!, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs!.numOrSizeSplits!, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((n) => {
      const size = x.shape.slice();
      size[axis] = n;
      const out = sliceFromHeap(backend, x, begin, size);
      begin[axis]! += n;
      return out;
    });
  });
  installed = true;
  return true;
}
