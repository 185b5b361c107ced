import { decodeBase64 } from './base64.js';
import { GEMM_WASM_BASE64 } from './gemm-wasm.js';
import { guidedBounds, helperKernel, helperPool, holdHelpers, stopHelpers } from './helper-threads.js';
import type { WasmMemory } from './host-wasm.js';
import { kernelThreads } from './kernel-threads.js';
import { isSharedMemory } from './shared-heap.js';

/**
 * One matrix product C = op(A)·op(B) split over threads: this thread and `kernelThreads() − 1`
 * helper threads (`helper-threads.ts`), all running the product's WebAssembly
 * (`assembly/gemm.as.ts`) on one shared memory.
 *
 * Where tfjs-wasm's heap is itself shared (in Node: `shared-heap.ts`), the helpers run on that
 * heap, on the tensors' own offsets — nothing is copied: C is cut into chunks of column panels
 * (`guidedBounds`) that this thread and the helpers take as each is free, each packing its
 * panels into the kernel's one work area at their own offsets; a product with fewer than 8
 * panels is split by rows, one block per thread (`splitBlocks`), each with a packing area of its
 * own. Otherwise (a heap
 * that is not shared: the cpu backend) a call copies A and B into a shared memory of the helpers'
 * own and copies their blocks of C back after (on the 2-core machine a split 100×784×200 product
 * then took 0.62× the one-thread time, a 1000×784×200 one 0.56×: `npx tsx
 * bench/gemm-threads.ts`); there a dense layer's two gradient products also run side by side
 * (`startSideGemm`). Every element is computed exactly as by the one-thread product
 * (`gemmPart`), so the result is the same bits for any thread count and whichever thread computes
 * a block (tested).
 */

/** Products smaller than this (M·K·N multiply-adds; 2²¹ ≈ 2.1 M) run on this thread: measured on 2 cores, a split 100×200×50 product (1 M) gains nothing, a 100×200×200 one (4 M) takes 0.64× the time. */
export const MIN_SPLIT_MACS = 1 << 21;

/** Products split in place (on a shared heap, nothing copied) from this many multiply-adds (2¹⁹ ≈ 0.5 M; chosen below the smallest products of a batch-100 step, 1 M, without a measurement of its own). */
export const MIN_SPLIT_IN_PLACE_MACS = 1 << 19;

/** Products a helper runs beside this thread's (`startSideGemm`) only from this many multiply-adds (2¹⁹ ≈ 0.5 M): below, the copies cost about what they save. */
export const MIN_SIDE_MACS = 1 << 19;

/** Pages of 64 KiB the helpers' own shared memory may grow to (1 GiB; products of these models use a few MB). */
const MAX_PAGES = 16384;

/** In place, products with at least this many column panels of 8 are split in chunks of panels taken as threads are free; narrower ones by rows, one block per thread. */
const MIN_CHUNKED_PANELS = 8;

/** The product's block kernel, as a helper kernel. */
const GEMM_PART = helperKernel(decodeBase64(GEMM_WASM_BASE64), 'gemmPart');

interface MemoryApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: MemoryApi }).WebAssembly;

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

/** Bytes of one thread's packing area for op(B): K rows of ⌈N/8⌉·8 floats. */
export function packAreaBytes(dims: { k: number; n: number }): number {
  return dims.k * 32 * Math.ceil(dims.n / 8);
}

/** A block of C: rows i0…i1−1, column panels q0…q1−1 (columns 8·q0 … min(8·q1, N)−1). */
export type Block = [number, number, number, number];

/** C [M, N] = op(A) [M, K] · op(B) [K, N]; `transA`: A is stored [K, M], `transB`: B is stored [N, K]. */
export interface GemmDims {
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
}

/**
 * C split into `t` blocks: by rows (in multiples of 4, the product's row block) when C has more
 * rows than columns or too few column panels of 8 to share, else by column panels. Rows keep a
 * helper's part of C contiguous (one copy out) at the price of every thread packing all of
 * op(B); panels share the packing. This thread's block (the first) gets `mainShare` of the work
 * and the helpers equal parts of the rest.
 */
export function splitBlocks(m: number, n: number, t: number, mainShare = 1 / t): Block[] {
  const panels = Math.ceil(n / 8);
  // Where block j starts, as a fraction of the work.
  const edge = (j: number) => (j === 0 ? 0 : j === t ? 1 : mainShare + ((1 - mainShare) * (j - 1)) / (t - 1));
  const blocks: Block[] = [];
  if (m <= n && panels >= 8 * t) {
    for (let j = 0; j < t; j++) blocks.push([0, m, Math.round(panels * edge(j)), Math.round(panels * edge(j + 1))]);
  } else {
    const quads = Math.ceil(m / 4);
    for (let j = 0; j < t; j++) blocks.push([Math.min(m, 4 * Math.round(quads * edge(j))), Math.min(m, 4 * Math.round(quads * edge(j + 1))), 0, panels]);
  }
  return blocks.filter(([i0, i1, q0, q1]) => i1 > i0 && q1 > q0);
}

/** A whole product handed to the first helper (`startSideGemm`), its result in the helpers' memory until collected. */
interface SideJob {
  id: number;
  /** The helper's job number: the side job is outstanding while it is the helper's current job. */
  job: number;
  offC: number;
  size: number;
}

/** Where a split product runs in place: the shared heap its tensors are in, and the byte offset of a work area of `threads` packing areas. */
export interface InPlace {
  memory: WasmMemory;
  work: number;
}

/** The helpers' own shared memory (copies of A and B, C, the packing areas) where the heap is not shared. */
let ownMemory: WasmMemory | undefined;
let side: SideJob | undefined;
let nextSideId = 1;

/**
 * C = op(A)·op(B) over `threads` threads; false (nothing done) when helpers are unavailable.
 * `a`, `b`, `c` are the tensors' float32 values; this thread's block is computed by
 * `runHere(block)` (the one-thread product restricted to the block, on the tensors where they
 * are), the helpers' blocks in place or on copies in their own memory, copied into `c` after.
 */
function runSplit(a: Float32Array, b: Float32Array, c: Float32Array, dims: GemmDims, threads: number, runHere: (block: Block) => void, inPlace?: InPlace): boolean {
  const runHereArgs = (args: number[]) => runHere(args.slice(9, 13) as Block);
  const panels = Math.ceil(dims.n / 8);
  const pool = helperPool();
  if (inPlace && panels >= MIN_CHUNKED_PANELS) {
    // Chunks of column panels (guided: large first, small last) taken by whichever thread is free; each packs its panels into the one work area at their own offsets.
    if (!pool.ensure(threads - 1, inPlace.memory)) return false;
    side = undefined;
    const args = partArgs([a.byteOffset, b.byteOffset, c.byteOffset, inPlace.work], dims, [0, dims.m, 0, panels]);
    pool.runChunked(GEMM_PART, args, 11, guidedBounds(0, panels, threads), runHereArgs, 'VaekitMatMul');
    return true;
  }
  const blocks = splitBlocks(dims.m, dims.n, threads);
  if (blocks.length < 2 || !pool.ensure(blocks.length - 1, inPlace?.memory ?? own())) return false;
  side = undefined;
  if (inPlace) {
    const packBytes = packAreaBytes(dims);
    blocks.slice(1).forEach((block, j) => hand(j, [a.byteOffset, b.byteOffset, c.byteOffset, inPlace.work + (j + 1) * packBytes], dims, block));
    runHere(blocks[0]!);
    for (let j = 1; j < blocks.length; j++) pool.wait(j - 1, 'VaekitMatMul');
    return true;
  }
  const { offC } = handOver(a, b, c.length, dims, blocks.slice(1));
  runHere(blocks[0]!);
  const shared = new Float32Array(own().buffer, offC, c.length);
  const n = dims.n;
  for (let j = 1; j < blocks.length; j++) {
    pool.wait(j - 1, 'VaekitMatMul');
    const [i0, i1, q0, q1] = blocks[j]!;
    const c0 = q0 * 8;
    const c1 = Math.min(n, q1 * 8);
    if (c0 === 0 && c1 === n) c.set(shared.subarray(i0 * n, i1 * n), i0 * n);
    else for (let i = i0; i < i1; i++) c.set(shared.subarray(i * n + c0, i * n + c1), i * n + c0);
  }
  return true;
}

function own(): WasmMemory {
  return (ownMemory ??= new WA.Memory({ initial: 16, maximum: MAX_PAGES, shared: true }));
}

/** `gemmPart`'s arguments: A, B, C and the packing area at the byte offsets `at`, the product's dimensions and flags, the block (q0 at index 11). */
function partArgs(at: [number, number, number, number], dims: GemmDims, block: Block): number[] {
  return [...at, dims.m, dims.k, dims.n, dims.transA ? 1 : 0, dims.transB ? 1 : 0, ...block];
}

/** Hands helper `j` the block `block` of the product with A, B, C and its packing area at the byte offsets `at`; its job number. */
function hand(j: number, at: [number, number, number, number], dims: GemmDims, block: Block): number {
  return helperPool().hand(j, GEMM_PART, partArgs(at, dims, block));
}

/**
 * Copies A and B into the helpers' own memory (growing it as needed) and hands `blocks[j]` to
 * helper j (each with its own packing area); C [`cSize` floats] will be at `offC`. Any job a
 * helper still has is finished or withdrawn first (the memory is about to be overwritten).
 */
function handOver(a: Float32Array, b: Float32Array, cSize: number, dims: GemmDims, blocks: readonly Block[]): { offC: number; jobs: number[] } {
  const pool = helperPool();
  blocks.forEach((_, j) => pool.drop(j));
  const workBytes = align64(packAreaBytes(dims));
  const offA = 64;
  const offB = align64(offA + a.byteLength);
  const offC = align64(offB + b.byteLength);
  const offWork = align64(offC + cSize * 4);
  const end = offWork + blocks.length * workBytes;
  const mem = own();
  if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
  const heap = mem.buffer;
  new Float32Array(heap, offA, a.length).set(a);
  new Float32Array(heap, offB, b.length).set(b);
  const jobs = blocks.map((block, j) => hand(j, [offA, offB, offC, offWork + j * workBytes], dims, block));
  return { offC, jobs };
}

/** Products split so far in this thread (for tests and benches: proof that a run used the helpers). */
let splitCount = 0;
/** Products handed whole to a helper beside one computed here (`startSideGemm`). */
let sideCount = 0;

/**
 * C = op(A)·op(B) split over the kernel threads (`kernelThreads()`), if there are two or more
 * and the product has at least `MIN_SPLIT_MACS` multiply-adds (`MIN_SPLIT_IN_PLACE_MACS` in
 * place): `runHere(block)` computes this thread's block of C in place. With `inPlace` (the
 * tensors are in a shared heap, `memory`, and `work` is the byte offset of `kernelThreads()`
 * packing areas of `packAreaBytes` each, the first this thread's) the helpers work on the
 * tensors too. False when it should all run on this thread (nothing done).
 */
export function splitGemm(a: Float32Array, b: Float32Array, c: Float32Array, dims: GemmDims, runHere: (block: Block) => void, inPlace?: InPlace): boolean {
  // The setting first: a malformed VAEKIT_KERNEL_THREADS fails at the first product, not at the first large one.
  const threads = kernelThreads();
  if (threads < 2 || dims.m * dims.k * dims.n < (inPlace ? MIN_SPLIT_IN_PLACE_MACS : MIN_SPLIT_MACS)) return false;
  if (inPlace && !isSharedMemory(inPlace.memory)) throw new Error('splitGemm: in place needs a shared memory');
  const split = runSplit(a, b, c, dims, threads, runHere, inPlace);
  if (split) splitCount++;
  return split;
}

/**
 * Whether two independent products can run side by side now: this thread one, a helper the
 * other (exactly two kernel threads, and `sideMacs` multiply-adds, the helper's product, at least
 * `MIN_SIDE_MACS`). A dense layer's backward pass is such a pair: dX = dY·Wᵀ and dW = Xᵀ·dY.
 */
export function sideBySideAvailable(sideMacs: number): boolean {
  return sideMacs >= MIN_SIDE_MACS && kernelThreads() === 2 && helperPool().unavailable === undefined;
}

/** Starts op(A)·op(B) on a helper thread and returns its job id (undefined: not started; compute it here). */
export function startSideGemm(a: Float32Array, b: Float32Array, dims: GemmDims): number | undefined {
  if (!helperPool().ensure(1, own())) return undefined;
  side = undefined;
  const size = dims.m * dims.n;
  const { offC, jobs } = handOver(a, b, size, dims, [[0, dims.m, 0, Math.ceil(dims.n / 8)]]);
  side = { id: nextSideId++, job: jobs[0]!, offC, size };
  sideCount++;
  return side.id;
}

/** Copies side job `id`'s result into `c` once the helper is done; false if it is not outstanding (compute it here). */
export function collectSideGemm(id: number, c: Float32Array): boolean {
  const job = side;
  const pool = helperPool();
  // Outstanding only while no other job went to the helper since (and on the same memory).
  if (!job || job.id !== id || job.size !== c.length || pool.current(0) !== job.job || pool.runsOn !== ownMemory) return false;
  side = undefined;
  pool.wait(0, 'VaekitMatMul');
  c.set(new Float32Array(own().buffer, job.offC, job.size));
  return true;
}

/**
 * How many products this thread has split over helper threads or run beside one, how many
 * helper blocks it computed itself because the helper had not claimed them (`takenBack`), the
 * chunks of products and other kernels split in chunks (on a shared heap) computed by this thread
 * and by helpers (`chunksHere`, `chunksHelped`), and how many helpers are running.
 */
export function gemmThreadStats(): { splitProducts: number; sideProducts: number; takenBack: number; chunksHere: number; chunksHelped: number; helpers: number } {
  const pool = helperPool();
  return { splitProducts: splitCount, sideProducts: sideCount, takenBack: pool.taken, chunksHere: pool.chunksHere, chunksHelped: pool.chunksHelped, helpers: pool.helperCount };
}

/** Why products are not split although more than one kernel thread is asked for (undefined: they are, or were never tried). */
export function gemmThreadsUnavailable(): string | undefined {
  return helperPool().unavailable;
}

/**
 * For tests: while `on`, running helpers see the blocks handed to them but do not claim them, as
 * if descheduled, so this thread takes every block back. Helpers started later are not held.
 */
export function holdGemmHelpers(on: boolean): void {
  holdHelpers(on);
}

/** Stops the helper threads (e.g. before a process measures its one-thread speed); they restart when needed. */
export function stopGemmThreads(): Promise<void> {
  side = undefined;
  return stopHelpers();
}
