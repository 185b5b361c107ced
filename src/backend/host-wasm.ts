/**
 * A WebAssembly module of host kernels (see `host-kernel.ts`), run on the tensors where they are.
 *
 * The module imports its memory and takes byte offsets: on the wasm backend it is instantiated
 * on tfjs-wasm's own heap (one instance per heap) and works on the tensors in place; on cpu,
 * whose tensors are ordinary arrays, the inputs are copied into a private memory, and the
 * outputs copied back (a few hundred KB per call: small next to a cpu training step).
 *
 * Such a module must own no memory of its own (no data segments, no allocator): everything it
 * writes is an output or the float64 work area the caller allocates (`HostKernel.workspace`).
 */
import { guidedBounds, helperKernel, runChunks } from './helper-threads.js';
import { kernelThreads } from './kernel-threads.js';
import { inPlaceHeap, isSharedMemory } from './shared-heap.js';
import { withSharedMemory } from './wasm-binary.js';

type View = Float32Array | Float64Array;
type Exports = Record<string, (...args: number[]) => void>;

/** The parts of the WebAssembly API used here (the ES2022 lib and @types/node 20 do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly kind: 'module';
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * Whether `a` is a view of `memory`. A plain memory's buffer is one object until the memory grows
 * (and detaches it). A shared memory's is not: V8 hands out a new SharedArrayBuffer object for the
 * same memory when shared memories are created or grown elsewhere in the process, and older views
 * stay valid. There only the kind of buffer and the bounds can be checked.
 */
function inMemory(a: View, memory: WasmMemory): boolean {
  const buffer = memory.buffer as ArrayBufferLike;
  if (a.buffer === buffer) return true;
  return isSharedMemory(memory) && a.buffer instanceof SharedArrayBuffer && a.byteOffset + a.byteLength <= buffer.byteLength;
}

/** A host kernel's arrays: its inputs, its outputs and its work area. */
type HostArrays = { inputs: readonly View[]; outputs: readonly View[]; work: Float64Array };

/** The byte offsets in `memory` of a kernel's inputs, outputs and work area, in that order (an error naming `fn` if one is not a view of it). */
function offsetsIn(fn: string, memory: WasmMemory, arrays: HostArrays): number[] {
  return [...arrays.inputs, ...arrays.outputs, arrays.work].map((a) => {
    if (!inMemory(a, memory)) throw new Error(`HostWasm.${fn}: an array is not in the given memory`);
    return a.byteOffset;
  });
}

/** Kernels split over the kernel threads (`HostWasm.runSplit`) only from this many elements of work: below, a hand-off costs about what it saves. */
export const MIN_SPLIT_ELEMENTS = 16384;

/** The smallest chunk of a split kernel, in elements (≈ 2 µs of work: a chunk's call and hand-off cost about 1). */
export const MIN_CHUNK_ELEMENTS = 1024;

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

export class HostWasm {
  private readonly module: WasmModule;
  /** The module with its memory import declared shared, for a shared heap (`./shared-heap.ts`); compiled when first needed. */
  private sharedModule?: WasmModule;
  private readonly instances = new WeakMap<WasmMemory, Exports>();
  private privateMemory?: WasmMemory;

  constructor(
    private readonly bytes: Uint8Array,
    /** Imported functions (`env.<name>`), e.g. Math.exp for a module without its own. */
    private readonly functions: Record<string, (x: number) => number>,
  ) {
    this.module = new WA.Module(bytes);
  }

  private exportsFor(memory: WasmMemory): Exports {
    let ex = this.instances.get(memory);
    if (!ex) {
      // A shared memory can only be imported by a module that declares its import shared.
      const module = isSharedMemory(memory) ? (this.sharedModule ??= new WA.Module(withSharedMemory(this.bytes)!)) : this.module;
      ex = new WA.Instance(module, { env: { memory, ...this.functions } }).exports as unknown as Exports;
      this.instances.set(memory, ex);
    }
    return ex;
  }

  /** Calls export `fn` on `memory` with `args` as they are (byte offsets into `memory` and numbers). */
  call(fn: string, memory: WasmMemory, args: readonly number[]): void {
    this.exportsFor(memory)[fn]!(...args);
  }

  /**
   * `run` split over the kernel threads where `memory` is a shared heap (`./shared-heap.ts`), there
   * are two or more and the work has at least `MIN_SPLIT_ELEMENTS` elements: export `fn` takes a
   * range of the work as `numbers[lo]`, `numbers[lo + 1]` (rows, columns or elements, whatever
   * `fn` splits by; `unitElements` elements each); chunks of `range` (`guidedBounds`: starts at
   * multiples of `quantum`, at least `MIN_CHUNK_ELEMENTS` elements) go to whichever thread is free
   * (`./helper-threads.ts`). `fn` must give the same bits for any split (each chunk writes its own
   * part of the outputs; shared work-area contents written alike by every chunk). False — nothing
   * done, call `run` — when it does not split (no shared heap, one thread, too little work,
   * helpers unavailable).
   */
  runSplit(fn: string, memory: WasmMemory | undefined, arrays: HostArrays, numbers: readonly number[], lo: number, range: readonly [number, number], quantum: number, unitElements: number): boolean {
    const threads = kernelThreads();
    const [start, end] = range;
    const minChunk = Math.ceil(MIN_CHUNK_ELEMENTS / unitElements);
    if (!memory || threads < 2 || !inPlaceHeap(memory) || (end - start) * unitElements < MIN_SPLIT_ELEMENTS || end - start < 2 * Math.max(minChunk, quantum)) return false;
    const args = [...offsetsIn(fn, memory, arrays), ...numbers];
    const bounds = guidedBounds(start, end, threads, quantum, minChunk);
    return runChunks(memory, threads, helperKernel(this.bytes, fn), args, args.length - numbers.length + lo, bounds, (a) => this.call(fn, memory, a), fn);
  }

  /**
   * Calls export `fn` with the byte offsets of `inputs`, `outputs` and `work` (in that order),
   * then `numbers`. With `memory` (the heap every array is a view of), in place; without,
   * through the private memory.
   */
  run(fn: string, memory: WasmMemory | undefined, arrays: HostArrays, numbers: readonly number[]): void {
    if (memory) {
      this.exportsFor(memory)[fn]!(...offsetsIn(fn, memory, arrays), ...numbers);
      return;
    }
    const all = [...arrays.inputs, ...arrays.outputs, arrays.work];
    const offsets: number[] = [];
    let end = 16;
    for (const a of all) {
      offsets.push(end);
      end = align16(end + a.byteLength);
    }
    this.privateMemory ??= new WA.Memory({ initial: 1 });
    const mem = this.privateMemory;
    if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
    const heap = new Uint8Array(mem.buffer);
    arrays.inputs.forEach((a, i) => heap.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offsets[i]));
    this.exportsFor(mem)[fn]!(...offsets, ...numbers);
    arrays.outputs.forEach((a, i) => {
      const at = offsets[arrays.inputs.length + i]!;
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(heap.subarray(at, at + a.byteLength));
    });
  }
}
