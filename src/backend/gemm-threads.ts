import { decodeBase64 } from './base64.js';
import { GEMM_SHARED_WASM_BASE64 } from './gemm-shared-wasm.js';
import type { WasmMemory } from './host-wasm.js';
import { kernelThreads, nodeThreadModules } from './kernel-threads.js';

/**
 * One matrix product C = op(A)·op(B) split over threads: this thread and `kernelThreads() − 1`
 * helper threads, all running the product's WebAssembly (`assembly/gemm.as.ts`, compiled for a
 * shared memory) on one shared memory.
 *
 * A call copies A and B into the shared memory, hands each helper its block of C (a range of
 * column panels, or of rows; `splitBlocks`), computes the first block here in place (on the
 * tensors where they are), waits for the helpers and copies their blocks into C. Every element
 * is computed exactly as by the one-thread product (`gemmPart`), so the result is the same bits
 * for any thread count (tested). The copies are the price of tfjs-wasm's heap not being a shared
 * memory: on the 2-core machine a split 100×784×200 product takes 0.62× the one-thread time, a
 * 1000×784×200 one 0.56× (`npx tsx bench/gemm-threads.ts`), and a batch-100 training step's
 * products 0.72× (`bench/kernel-threads-ab.ts` runs the whole step).
 *
 * A helper is a `node:worker_threads` worker with no imports: it instantiates the module on the
 * shared memory and loops on its control block, woken by `Atomics.notify`. After a block it
 * keeps polling for `SPIN_MS` before it sleeps, because in a training step the next product
 * follows within tens of µs and waking a sleeping thread costs more than the smaller products.
 * So while a model trains, the helpers keep their cores busy; idle, they sleep. Helpers are
 * `unref`'d (they never keep a process alive) and started on the first product large enough to
 * split (`MIN_SPLIT_MACS`).
 *
 * A block handed to a helper is claimed before it is computed (compare-and-swap on its job
 * number): when this thread needs a block that its helper has not yet claimed — the helper was
 * descheduled, which on a busy 2-core machine happens to a few percent of hand-offs and costs
 * milliseconds each — this thread claims it and computes it itself, on the same copies with the
 * same module (so the same bits), instead of waiting for the helper to be scheduled again.
 */

/** Products smaller than this (M·K·N multiply-adds; 2²¹ ≈ 2.1 M) run on this thread: measured on 2 cores, a split 100×200×50 product (1 M) gains nothing, a 100×200×200 one (4 M) takes 0.64× the time. */
export const MIN_SPLIT_MACS = 1 << 21;

/** Products a helper runs beside this thread's (`startSideGemm`) only from this many multiply-adds (2¹⁹ ≈ 0.5 M): below, the copies cost about what they save. */
export const MIN_SIDE_MACS = 1 << 19;

/** How long a helper keeps polling for the next block before it sleeps. */
const SPIN_MS = 2;

/** How long this thread polls for a helper's block before it sleeps between looks. */
const POLL_MS = 20;

/** How long this thread waits for a helper's block before it gives up (a helper that died mid-block). */
const BLOCK_TIMEOUT_MS = 120_000;

/** How long this thread waits for a new helper to load its module. */
const START_TIMEOUT_MS = 10_000;

// Control block of one helper (Int32Array over its own SharedArrayBuffer).
const SEQ = 0; // bumped by this thread to hand over a block (or EXIT)
const DONE = 1; // set to SEQ by the helper when its block is done
const READY = 2; // 1 once the helper has instantiated the module
const ERROR = 3; // 1 if the block threw (the message is not passed: the same call on this thread throws it)
const EXIT = 4; // 1: leave the loop
const CLAIM = 5; // SEQ of the block on offer; the helper (−SEQ) or this thread (0) takes it by compare-and-swap
const HOLD = 6; // 1: the helper does not claim blocks (a descheduled helper, for tests: holdGemmHelpers)
const ARGS = 7; // gemmPart's 13 arguments
const CONTROL_INTS = ARGS + 13;

/** The helper's code (CommonJS, evaluated in the worker; no imports but Node's). */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { bytes, memory, control, spinMs } = workerData;
const ctl = new Int32Array(control);
const part = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.gemmPart;
Atomics.store(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
let seen = 0;
for (;;) {
  let until = 0;
  for (let i = 0; Atomics.load(ctl, ${SEQ}) === seen; i++) {
    if ((i & 1023) !== 0) continue;
    const now = performance.now();
    if (until === 0) until = now + spinMs;
    else if (now > until) { Atomics.wait(ctl, ${SEQ}, seen); until = 0; }
  }
  seen = Atomics.load(ctl, ${SEQ});
  if (Atomics.load(ctl, ${EXIT}) === 1) break;
  while (Atomics.load(ctl, ${HOLD}) === 1) Atomics.wait(ctl, ${HOLD}, 1, 20);
  // Only a claimed block is computed (this thread may have taken it meanwhile; then its arguments may already be the next block's).
  if (Atomics.compareExchange(ctl, ${CLAIM}, seen, -seen) === seen) {
    const a = [];
    for (let i = 0; i < 13; i++) a.push(ctl[${ARGS} + i]);
    try { part(...a); Atomics.store(ctl, ${ERROR}, 0); } catch (e) { Atomics.store(ctl, ${ERROR}, 1); }
  }
  Atomics.store(ctl, ${DONE}, seen);
  Atomics.notify(ctl, ${DONE});
}
`;

interface SharedWasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, (...args: number[]) => void> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: SharedWasmApi }).WebAssembly;

interface Helper {
  worker: import('node:worker_threads').Worker;
  ctl: Int32Array;
  seq: number;
}

/** Pages of 64 KiB the shared memory may grow to (1 GiB; products of these models use a few MB). */
const MAX_PAGES = 16384;

/** A line on stderr (unless VAEKIT_QUIET=1), once per process from here. */
function notice(line: string): void {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined>; stderr?: { write(s: string): void } } }).process;
  if (p?.env?.VAEKIT_QUIET === '1') return;
  if (p?.stderr) p.stderr.write(line);
  else console.warn(line.trimEnd());
}

/** Job numbers run 1 … 2³⁰ and round again: positive, so that a claimed job (−SEQ) and a withdrawn one (0) differ from every job number. */
function nextJob(seq: number): number {
  return seq >= 0x40000000 ? 1 : seq + 1;
}

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
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

/** A whole product handed to the first helper (`startSide`), its result in the shared memory until collected. */
interface SideJob {
  id: number;
  offC: number;
  size: number;
}

class GemmThreads {
  private readonly bytes = decodeBase64(GEMM_SHARED_WASM_BASE64);
  private readonly module = new WA.Module(this.bytes);
  private memory?: WasmMemory;
  /** The module on the shared memory in this thread, for blocks taken back from a helper. */
  private part?: (...args: number[]) => void;
  /** Blocks this thread took back from a helper that had not claimed them. */
  taken = 0;
  private readonly helpers: Helper[] = [];
  private side?: SideJob;
  private nextSideId = 1;
  /** Why threads could not start (then every product runs on this thread). */
  private failed?: string;

  get helperCount(): number {
    return this.helpers.length;
  }

  /** The reason helper threads are unavailable, if they are. */
  get unavailable(): string | undefined {
    return this.failed;
  }

  /** Starts helpers until there are `count` (false, with `unavailable` set, if they cannot start). */
  private ensureHelpers(count: number): boolean {
    if (this.failed) return false;
    if (this.helpers.length >= count) return true;
    const node = nodeThreadModules();
    if (!node) {
      this.failed = 'node:worker_threads is not available';
      return false;
    }
    try {
      this.memory ??= new WA.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
      while (this.helpers.length < count) {
        const control = new SharedArrayBuffer(CONTROL_INTS * 4);
        const ctl = new Int32Array(control);
        const worker = new node.workerThreads.Worker(HELPER_SOURCE, { eval: true, workerData: { bytes: this.bytes, memory: this.memory, control, spinMs: SPIN_MS } });
        worker.unref();
        if (Atomics.wait(ctl, READY, 0, START_TIMEOUT_MS) === 'timed-out' && Atomics.load(ctl, READY) !== 1) {
          void worker.terminate();
          throw new Error(`a helper thread did not start within ${START_TIMEOUT_MS / 1000} s`);
        }
        this.helpers.push({ worker, ctl, seq: 0 });
      }
      return true;
    } catch (e) {
      this.failed = `kernel helper threads could not start: ${(e as Error).message}`;
      for (const h of this.helpers.splice(0)) void h.worker.terminate();
      notice(`vaekit: ${this.failed}; matrix products run on one thread\n`);
      return false;
    }
  }

  /**
   * C = op(A)·op(B) over `threads` threads; false (nothing done) when helpers are unavailable.
   * `a`, `b`, `c` are the tensors' float32 values; this thread's block is computed by
   * `runHere(block)` (the one-thread product restricted to the block, on the tensors where they
   * are), the helpers' blocks on copies in the shared memory, copied into `c` after.
   */
  run(a: Float32Array, b: Float32Array, c: Float32Array, dims: GemmDims, threads: number, runHere: (block: Block) => void): boolean {
    const blocks = splitBlocks(dims.m, dims.n, threads);
    if (blocks.length < 2 || !this.ensureHelpers(blocks.length - 1)) return false;
    this.dropSide();
    const { offC } = this.handOver(a, b, c.length, dims, blocks.slice(1));
    runHere(blocks[0]!);
    const heap = this.memory!.buffer;
    const n = dims.n;
    const shared = new Float32Array(heap, offC, c.length);
    for (let j = 1; j < blocks.length; j++) {
      const h = this.helpers[j - 1]!;
      this.waitFor(h, j);
      const [i0, i1, q0, q1] = blocks[j]!;
      const c0 = q0 * 8;
      const c1 = Math.min(n, q1 * 8);
      if (c0 === 0 && c1 === n) c.set(shared.subarray(i0 * n, i1 * n), i0 * n);
      else for (let i = i0; i < i1; i++) c.set(shared.subarray(i * n + c0, i * n + c1), i * n + c0);
    }
    return true;
  }

  /**
   * Copies A and B into the shared memory (growing it as needed) and hands `blocks[j]` to helper j
   * (each with its own packing area); C [`cSize` floats] will be at `offC`.
   */
  private handOver(a: Float32Array, b: Float32Array, cSize: number, dims: GemmDims, blocks: readonly Block[]): { offC: number } {
    const { m, k, n, transA, transB } = dims;
    const workBytes = align64(k * 32 * Math.ceil(n / 8));
    const offA = 64;
    const offB = align64(offA + a.byteLength);
    const offC = align64(offB + b.byteLength);
    const offWork = align64(offC + cSize * 4);
    const end = offWork + blocks.length * workBytes;
    const mem = this.memory!;
    if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
    const heap = mem.buffer;
    new Float32Array(heap, offA, a.length).set(a);
    new Float32Array(heap, offB, b.length).set(b);
    blocks.forEach((block, j) => {
      const h = this.helpers[j]!;
      h.ctl.set([offA, offB, offC, offWork + j * workBytes, m, k, n, transA ? 1 : 0, transB ? 1 : 0, ...block], ARGS);
      h.seq = nextJob(h.seq);
      Atomics.store(h.ctl, CLAIM, h.seq);
      Atomics.store(h.ctl, SEQ, h.seq);
      Atomics.notify(h.ctl, SEQ);
    });
    return { offC };
  }

  /**
   * Hands the whole product op(A)·op(B) to the first helper and returns at once: a job id for
   * `collectSide`, or undefined when no helper can start. Only one such job is outstanding: any
   * other use of the helpers first waits for it and drops it.
   */
  startSide(a: Float32Array, b: Float32Array, dims: GemmDims): number | undefined {
    if (!this.ensureHelpers(1)) return undefined;
    this.dropSide();
    const size = dims.m * dims.n;
    const { offC } = this.handOver(a, b, size, dims, [[0, dims.m, 0, Math.ceil(dims.n / 8)]]);
    this.side = { id: this.nextSideId++, offC, size };
    return this.side.id;
  }

  /** Waits for side job `id` and copies its C into `c`; false if that job is not the outstanding one (then `c` is untouched). */
  collectSide(id: number, c: Float32Array): boolean {
    const job = this.side;
    if (!job || job.id !== id || job.size !== c.length) return false;
    this.side = undefined;
    this.waitFor(this.helpers[0]!, 1);
    c.set(new Float32Array(this.memory!.buffer, job.offC, job.size));
    return true;
  }

  /** Waits for an outstanding side job, if any (or withdraws it if the helper has not claimed it), and forgets its result (its memory is about to be reused). */
  private dropSide(): void {
    if (!this.side) return;
    this.side = undefined;
    const h = this.helpers[0]!;
    if (Atomics.compareExchange(h.ctl, CLAIM, h.seq, 0) !== h.seq) this.waitFor(h, 1);
  }

  /**
   * Waits for helper `h`'s block, or computes it here if the helper has not claimed it yet. When
   * claimed, polls first (it is usually about to finish, and a sleeping thread here wakes up to
   * half a millisecond late on a virtual machine), then sleeps in short waits.
   */
  private waitFor(h: Helper, j: number): void {
    if (Atomics.load(h.ctl, DONE) !== h.seq && Atomics.compareExchange(h.ctl, CLAIM, h.seq, 0) === h.seq) {
      this.part ??= (new WA.Instance(this.module, { env: { memory: this.memory! } }).exports as Record<string, (...args: number[]) => void>).gemmPart!;
      this.part(...h.ctl.subarray(ARGS, ARGS + 13));
      this.taken++;
      return;
    }
    const start = performance.now();
    for (let i = 1; ; i++) {
      if (Atomics.load(h.ctl, DONE) === h.seq) return this.check(h, j);
      if ((i & 1023) === 0 && performance.now() - start > POLL_MS) break;
    }
    const deadline = start + BLOCK_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(h.ctl, DONE);
      if (done === h.seq) return this.check(h, j);
      if (performance.now() > deadline) throw new Error(`VaekitMatMul: helper thread ${j} did not finish its block within ${BLOCK_TIMEOUT_MS / 1000} s`);
      Atomics.wait(h.ctl, DONE, done, 1);
    }
  }

  private check(h: Helper, j: number): void {
    if (Atomics.load(h.ctl, ERROR) === 1) throw new Error(`VaekitMatMul: helper thread ${j} failed on its block of the product`);
  }

  /** Sets every helper's HOLD flag (see `holdGemmHelpers`). */
  hold(on: boolean): void {
    for (const h of this.helpers) {
      Atomics.store(h.ctl, HOLD, on ? 1 : 0);
      Atomics.notify(h.ctl, HOLD);
    }
  }

  /** Stops the helpers (they are started again on the next split product). */
  stop(): Promise<void> {
    this.dropSide();
    const helpers = this.helpers.splice(0);
    for (const h of helpers) {
      Atomics.store(h.ctl, EXIT, 1);
      h.seq = nextJob(h.seq);
      Atomics.store(h.ctl, SEQ, h.seq);
      Atomics.notify(h.ctl, SEQ);
    }
    return Promise.all(helpers.map((h) => h.worker.terminate())).then(() => undefined);
  }
}

let pool: GemmThreads | undefined;
/** Products split so far in this thread (for tests and benches: proof that a run used the helpers). */
let splitCount = 0;
/** Products handed whole to a helper beside one computed here (`startSideGemm`). */
let sideCount = 0;

/**
 * C = op(A)·op(B) split over the kernel threads (`kernelThreads()`), if there are two or more
 * and the product has at least `MIN_SPLIT_MACS` multiply-adds: `runHere(block)` computes this
 * thread's block of C in place. False when it should all run on this thread (nothing done).
 */
export function splitGemm(a: Float32Array, b: Float32Array, c: Float32Array, dims: GemmDims, runHere: (block: Block) => void): boolean {
  // The setting first: a malformed VAEKIT_KERNEL_THREADS fails at the first product, not at the first large one.
  const threads = kernelThreads();
  if (threads < 2 || dims.m * dims.k * dims.n < MIN_SPLIT_MACS) return false;
  pool ??= new GemmThreads();
  const split = pool.run(a, b, c, dims, threads, runHere);
  if (split) splitCount++;
  return split;
}

/**
 * Whether two independent products can run side by side now: this thread one, a helper the
 * other (exactly two kernel threads, and `sideMacs` multiply-adds, the helper's product, at least
 * `MIN_SIDE_MACS`). A dense layer's backward pass is such a pair: dX = dY·Wᵀ and dW = Xᵀ·dY.
 */
export function sideBySideAvailable(sideMacs: number): boolean {
  return sideMacs >= MIN_SIDE_MACS && kernelThreads() === 2 && pool?.unavailable === undefined;
}

/** Starts op(A)·op(B) on a helper thread and returns its job id (undefined: not started; compute it here). */
export function startSideGemm(a: Float32Array, b: Float32Array, dims: GemmDims): number | undefined {
  pool ??= new GemmThreads();
  const id = pool.startSide(a, b, dims);
  if (id !== undefined) sideCount++;
  return id;
}

/** Copies side job `id`'s result into `c` once the helper is done; false if it is not outstanding (compute it here). */
export function collectSideGemm(id: number, c: Float32Array): boolean {
  return pool?.collectSide(id, c) ?? false;
}

/**
 * How many products this thread has split over helper threads or run beside one, how many
 * helper blocks it computed itself because the helper had not claimed them (`takenBack`), and
 * how many helpers are running.
 */
export function gemmThreadStats(): { splitProducts: number; sideProducts: number; takenBack: number; helpers: number } {
  return { splitProducts: splitCount, sideProducts: sideCount, takenBack: pool?.taken ?? 0, helpers: pool?.helperCount ?? 0 };
}

/** Why products are not split although more than one kernel thread is asked for (undefined: they are, or were never tried). */
export function gemmThreadsUnavailable(): string | undefined {
  return pool?.unavailable;
}

/**
 * For tests: while `on`, running helpers see the blocks handed to them but do not claim them, as
 * if descheduled, so this thread takes every block back. Helpers started later are not held.
 */
export function holdGemmHelpers(on: boolean): void {
  pool?.hold(on);
}

/** Stops the helper threads (e.g. before a process measures its one-thread speed); they restart when needed. */
export function stopGemmThreads(): Promise<void> {
  return pool ? pool.stop() : Promise.resolve();
}
