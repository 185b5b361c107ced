import { tf } from '../core/tf.js';
import { speedFixesSetting } from './speed-fixes.js';
import type { WasmMemory } from './host-wasm.js';

/**
 * Kernels written in TypeScript over float32 arrays ("host kernels"), for the backends whose
 * tensors live in this process's memory: wasm (views on the wasm heap, no copy) and cpu (the
 * backend's own arrays). On wasm every tfjs op has a fixed cost of tens of µs, so a long chain
 * of tiny ops (a planar flow's per-step dot products and updates on `[K, B, D]` tensors) costs
 * far more in dispatch than in arithmetic; one host kernel replaces the chain with a loop.
 *
 * A host kernel is a tfjs kernel (`tf.registerKernel`) for `wasm` and `cpu`; it has no
 * registered gradient, so an op using it wraps it in `tf.customGrad` with a second host kernel
 * for the backward pass. Other backends (tfjs-node, webgl) do not get it: callers check
 * `hostKernelAvailable` and fall back to ordinary tfjs ops. Like the other speed fixes it is
 * off under `setSpeedFixes(false)`.
 *
 * Inputs must be float32; `compute` must write every element of every output (outputs are not
 * cleared: on wasm they are freshly allocated heap memory). A kernel written in WebAssembly runs
 * through `HostWasm` with the `HostCall` it is given (the heap the arrays live in, and a float64
 * work area).
 */
export interface HostKernel {
  /** The kernel name (unique in the process, e.g. `VaekitPlanarStack`). */
  readonly name: string;
  /** Input names, in the order `compute` receives them. */
  readonly inputs: readonly string[];
  /** Output shapes from the input shapes and attrs (throw here on inconsistent shapes). */
  outputShapes(shapes: readonly number[][], attrs: Readonly<Record<string, number>>): number[][];
  /** Float64 elements of work memory `compute` needs (none if absent). */
  workspace?(shapes: readonly number[][], attrs: Readonly<Record<string, number>>): number;
  /** Fills `outputs` from `inputs`; `attrs` are the numbers passed to `runHostKernel`. */
  compute(inputs: readonly Float32Array[], outputs: readonly Float32Array[], shapes: readonly number[][], attrs: Readonly<Record<string, number>>, call: HostCall): void;
}

/** What a kernel's `compute` gets besides its arrays. */
export interface HostCall {
  /** The work area (`workspace` elements; contents undefined). */
  work: Float64Array;
  /** On wasm: the heap every input, output and `work` is a view of (for `HostWasm.run`). */
  memory?: WasmMemory;
}

const HOST_BACKENDS = ['wasm', 'cpu'] as const;
type HostBackend = (typeof HOST_BACKENDS)[number];

interface WasmLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  wasm: { _malloc(bytes: number): number; _free(ptr: number): void; asm: { memory: WasmMemory } };
}
interface CpuLike {
  data: { get(dataId: tf.DataId): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function run(kernel: HostKernel, backendName: HostBackend, args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Record<string, unknown> }): tf.TensorInfo[] {
  const attrs = (args.attrs ?? {}) as Record<string, number>;
  const ins = kernel.inputs.map((name) => {
    const t = args.inputs[name];
    if (!t) throw new Error(`${kernel.name}: missing input "${name}"`);
    if (t.dtype !== 'float32') throw new Error(`${kernel.name}: input "${name}" must be float32; got ${t.dtype}`);
    return t;
  });
  const shapes = ins.map((t) => t.shape);
  const outShapes = kernel.outputShapes(shapes, attrs);
  const workSize = kernel.workspace?.(shapes, attrs) ?? 0;
  if (backendName === 'wasm') {
    const backend = args.backend as WasmLike;
    const workPtr = workSize > 0 ? backend.wasm._malloc(workSize * 8) : 0;
    try {
      const outs = outShapes.map((s) => backend.makeOutput(s, 'float32'));
      // Views are taken after every allocation: an allocation may grow the heap and detach older views.
      const memory = backend.wasm.asm.memory;
      kernel.compute(
        ins.map((t) => backend.typedArrayFromHeap(t)),
        outs.map((t) => backend.typedArrayFromHeap(t)),
        shapes,
        attrs,
        { work: new Float64Array(memory.buffer, workPtr, workSize), memory },
      );
      return outs;
    } finally {
      if (workPtr) backend.wasm._free(workPtr);
    }
  }
  const backend = args.backend as CpuLike;
  const outs = outShapes.map((s) => new Float32Array(size(s)));
  kernel.compute(
    ins.map((t) => cpuFloat32(backend.data.get(t.dataId).values)),
    outs,
    shapes,
    attrs,
    { work: new Float64Array(workSize) },
  );
  return outs.map((v, i) => backend.makeTensorInfo(outShapes[i]!, 'float32', v));
}

/**
 * A cpu tensor's values as a Float32Array. A float32 tensor on cpu may hold another array type:
 * tfjs's cpu `Cast` from bool or int32 to float32 keeps the input's Uint8Array/Int32Array (no
 * precision is lost, so it does not copy), and reading those bytes as float32 would give garbage.
 */
function cpuFloat32(values: unknown): Float32Array {
  if (values instanceof Float32Array) return values;
  if (ArrayBuffer.isView(values) && !(values instanceof DataView)) return Float32Array.from(values as unknown as ArrayLike<number>);
  throw new Error(`host kernel on cpu: expected a typed array of tensor values; got ${values === undefined ? 'none' : Object.prototype.toString.call(values)}`);
}

/** Registers `kernel` for the wasm and cpu backends (once per name; later calls are no-ops). */
export function registerHostKernel(kernel: HostKernel): void {
  for (const backendName of HOST_BACKENDS) {
    if (tf.getKernel(kernel.name, backendName)) continue;
    tf.registerKernel({
      kernelName: kernel.name,
      backendName,
      kernelFunc: (args) => run(kernel, backendName, args as unknown as Parameters<typeof run>[2]),
    });
  }
}

/** Whether `name` runs on the current backend (a host backend, the kernel registered, speed fixes not turned off). */
export function hostKernelAvailable(name: string): boolean {
  const backend = tf.getBackend();
  return speedFixesSetting() !== false && (HOST_BACKENDS as readonly string[]).includes(backend) && tf.getKernel(name, backend) !== undefined;
}

/** The heap the current backend's tensors live in: tfjs-wasm's memory on wasm, undefined elsewhere. */
export function hostHeap(): WasmMemory | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return (tf.backend() as unknown as Partial<WasmLike>).wasm?.asm?.memory;
}

/** Runs a registered host kernel: the output tensors in the order of `outputShapes`. */
export function runHostKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}
