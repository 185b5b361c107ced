import type { WasmMemory } from './host-wasm.js';
import { nodeThreadModules } from './kernel-threads.js';
import { withSharedMemory } from './wasm-binary.js';

/**
 * Helper threads that run parts of vaekit's WebAssembly kernels on a shared memory, beside this
 * thread: the pool behind the kernel threads (`kernel-threads.ts`). Users: the split matrix
 * product (`gemm-threads.ts`) and, on a shared tfjs heap, the kernels split by ranges of rows,
 * columns or elements (`HostWasm.runSplit` through `runChunks` below: Adam, bias + tanh, the
 * Bernoulli likelihood).
 *
 * A kernel is an export of a module (`helperKernel(bytes, name)`, its memory import declared
 * shared here). A helper is a `node:worker_threads` worker with no imports: it instantiates every
 * registered module on the memory and loops on its control block (an Int32Array; the arguments
 * are float64s after it), woken by `Atomics.notify`. After a job it keeps polling for `SPIN_MS`
 * before it sleeps, because in a training step the next job follows within tens of µs and waking
 * a sleeping thread costs more than the smaller jobs. So while a model trains, the helpers keep
 * their cores busy; idle, they sleep. Helpers are `unref`'d (they never keep a process alive);
 * they are started when first needed and restarted when the memory changes or a kernel is
 * registered after they started.
 *
 * Two kinds of job. A board job (`runChunked`) is cut into chunks that this thread and every
 * helper take as each is free. A job handed to one helper (`hand`) is claimed before it is
 * computed (compare-and-swap on its job number):
 * when this thread needs a job that its helper has not yet claimed — the helper was descheduled,
 * which on a busy 2-core machine happens to a few percent of hand-offs and costs milliseconds
 * each — this thread claims it and computes it itself with the same module on the same memory (so
 * the same bits), instead of waiting for the helper to be scheduled again.
 */

/** How long a helper keeps polling for the next job before it sleeps. */
const SPIN_MS = 2;

/** How long this thread polls for a helper's job before it sleeps between looks. */
const POLL_MS = 20;

/** How long this thread waits for a helper's job before it gives up (a helper that died mid-job). */
const JOB_TIMEOUT_MS = 120_000;

/** How long this thread waits for a new helper to load its modules. */
const START_TIMEOUT_MS = 10_000;

/** The most arguments a kernel takes. */
const MAX_ARGS = 16;

// Control block of one helper: Int32 slots, then MAX_ARGS float64 arguments from byte ARGS_BYTE.
const SEQ = 0; // bumped by this thread to hand over a job (or EXIT)
const DONE = 1; // set to SEQ by the helper when its job is done
const READY = 2; // 1 once the helper has instantiated the modules
const ERROR = 3; // 1 if the job threw (the message is not passed: the same call on this thread throws it)
const EXIT = 4; // 1: leave the loop
const CLAIM = 5; // SEQ of the job on offer; the helper (−SEQ) or this thread (0) takes it by compare-and-swap
const HOLD = 6; // 1: the helper does not claim jobs (a descheduled helper, for tests: holdHelpers)
const KERNEL = 7; // index of the kernel to run
const ARGC = 8; // number of arguments
const MODE = 9; // 0: the job in this block; 1: take chunks of the job on the board (tagged TAG)
const TAG = 10; // the board job's tag
const ARGS_BYTE = 64;
const CONTROL_BYTES = ARGS_BYTE + MAX_ARGS * 8;

// The board: one job shared by every thread, taken a chunk at a time (Int32 slots, the float64
// argument template from byte ARGS_BYTE, then the chunks' bounds as int32 from BOUNDS_BYTE). Chunk
// c covers [bounds[c], bounds[c + 1]), which go into arguments LO and LO + 1.
const B_KERNEL = 0;
const B_ARGC = 1;
const B_LO = 2;
const B_COUNT = 3; // number of chunks
const B_NEXT = 4; // TAG·2¹⁶ + the next chunk: a chunk is taken by compare-and-swap while the tag is the job's
const B_DONE = 5; // chunks finished
const B_ERROR = 6; // 1 if a chunk threw
/** Tags run 1 … 2¹⁵ − 1 (so that TAG·2¹⁶ + chunk stays a positive int32). */
const MAX_TAG = 0x7fff;
/** The most chunks a board job has. */
const MAX_CHUNKS = 64;
const BOUNDS_BYTE = CONTROL_BYTES;
const BOARD_BYTES = BOUNDS_BYTE + (MAX_CHUNKS + 1) * 4;

/** The helper's code (CommonJS, evaluated in the worker; no imports but Node's). */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { modules, kernels, memory, control, board: boardBuffer, spinMs } = workerData;
const ctl = new Int32Array(control);
const args = new Float64Array(control, ${ARGS_BYTE}, ${MAX_ARGS});
const board = new Int32Array(boardBuffer, 0, ${ARGS_BYTE / 4});
const template = new Float64Array(boardBuffer, ${ARGS_BYTE}, ${MAX_ARGS});
const bounds = new Int32Array(boardBuffer, ${BOUNDS_BYTE}, ${MAX_CHUNKS + 1});
const instances = modules.map((bytes) => new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports);
const fns = kernels.map(([m, name]) => instances[m][name]);
Atomics.store(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
let seen = Atomics.load(ctl, ${SEQ});
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
  if (ctl[${MODE}] === 1) {
    // Chunks of the board's job while its tag is this one (a later job has another).
    const tag = ctl[${TAG}];
    for (;;) {
      const w = Atomics.load(board, ${B_NEXT});
      const c = w & 0xffff;
      if (w >>> 16 !== tag || c >= board[${B_COUNT}]) break;
      if (Atomics.compareExchange(board, ${B_NEXT}, w, w + 1) !== w) continue;
      const a = Array.from(template.subarray(0, board[${B_ARGC}]));
      const lo = board[${B_LO}];
      a[lo] = bounds[c];
      a[lo + 1] = bounds[c + 1];
      try { fns[board[${B_KERNEL}]](...a); } catch (e) { Atomics.store(board, ${B_ERROR}, 1); }
      Atomics.add(board, ${B_DONE}, 1);
      Atomics.notify(board, ${B_DONE});
    }
  } else if (Atomics.compareExchange(ctl, ${CLAIM}, seen, -seen) === seen) {
    // Only a claimed job is computed (this thread may have taken it meanwhile; then its arguments may already be the next job's).
    const a = Array.from(args.subarray(0, ctl[${ARGC}]));
    try { fns[ctl[${KERNEL}]](...a); Atomics.store(ctl, ${ERROR}, 0); } catch (e) { Atomics.store(ctl, ${ERROR}, 1); }
  }
  Atomics.store(ctl, ${DONE}, seen);
  Atomics.notify(ctl, ${DONE});
}
`;

interface SharedWasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, (...args: number[]) => void> };
}
const WA = (globalThis as unknown as { WebAssembly: SharedWasmApi }).WebAssembly;

/** A registered kernel: an export of one of the modules. */
interface Kernel {
  module: number;
  name: string;
}

/** Modules (memory import declared shared) and kernels registered so far, in registration order. */
const modules: { source: Uint8Array; shared: Uint8Array; compiled?: object }[] = [];
const kernels: Kernel[] = [];

/**
 * Registers export `name` of the module `bytes` (compiled for an imported memory) as a kernel the
 * helpers can run, and returns its index for `HelperPool.hand` (the same index for the same
 * bytes and name).
 */
export function helperKernel(bytes: Uint8Array, name: string): number {
  let module = modules.findIndex((m) => m.source === bytes);
  if (module < 0) {
    const shared = withSharedMemory(bytes);
    if (!shared) throw new Error(`helperKernel(${name}): the module has no memory to share`);
    module = modules.push({ source: bytes, shared }) - 1;
  }
  const known = kernels.findIndex((k) => k.module === module && k.name === name);
  return known >= 0 ? known : kernels.push({ module, name }) - 1;
}

interface Helper {
  worker: import('node:worker_threads').Worker;
  ctl: Int32Array;
  args: Float64Array;
  seq: number;
}

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

/** The helper threads of this thread (one pool: the helpers run on one memory at a time). */
export class HelperPool {
  /** The memory the helpers run on. */
  private memory?: WasmMemory;
  /** Kernels registered when the helpers started (more registered since: restart). */
  private kernelCount = 0;
  /** The kernels instantiated on `memory` in this thread, for jobs taken back from a helper. */
  private readonly here = new Map<number, (...args: number[]) => void>();
  private readonly helpers: Helper[] = [];
  /** Jobs this thread took back from a helper that had not claimed them. */
  taken = 0;
  /** The last job number of helpers stopped so far: new helpers number on from it, so a job number is never reused in this thread (`current`). */
  private lastSeq = 0;
  /** Why threads could not start (then every kernel runs on this thread). */
  private failed?: string;
  /** The board every helper takes chunks from (`runChunked`). */
  private readonly boardBuffer = new SharedArrayBuffer(BOARD_BYTES);
  private readonly board = new Int32Array(this.boardBuffer, 0, ARGS_BYTE / 4);
  private readonly template = new Float64Array(this.boardBuffer, ARGS_BYTE, MAX_ARGS);
  private readonly bounds = new Int32Array(this.boardBuffer, BOUNDS_BYTE, MAX_CHUNKS + 1);
  private tag = 0;
  /** Chunks of board jobs computed by this thread and by the helpers. */
  chunksHere = 0;
  chunksHelped = 0;

  get helperCount(): number {
    return this.helpers.length;
  }

  /** The reason helper threads are unavailable, if they are. */
  get unavailable(): string | undefined {
    return this.failed;
  }

  /** The memory the helpers run on (undefined before they start). */
  get runsOn(): WasmMemory | undefined {
    return this.memory;
  }

  /**
   * Starts helpers until there are `count` running on `memory` (a shared memory); helpers on
   * another memory, or started before a kernel was registered, are stopped first. False, with
   * `unavailable` set, if they cannot start.
   */
  ensure(count: number, memory: WasmMemory): boolean {
    if (this.failed) return false;
    if (this.helpers.length > 0 && (this.memory !== memory || this.kernelCount !== kernels.length)) void this.stop();
    if (this.memory !== memory) this.here.clear();
    this.memory = memory;
    if (this.helpers.length >= count) return true;
    const node = nodeThreadModules();
    if (!node) {
      this.failed = 'node:worker_threads is not available';
      return false;
    }
    try {
      this.kernelCount = kernels.length;
      const workerData = { modules: modules.map((m) => m.shared), kernels: kernels.map((k) => [k.module, k.name]), memory, board: this.boardBuffer, spinMs: SPIN_MS };
      while (this.helpers.length < count) {
        const control = new SharedArrayBuffer(CONTROL_BYTES);
        const ctl = new Int32Array(control, 0, ARGS_BYTE / 4);
        const seq = this.lastSeq;
        ctl[SEQ] = seq;
        ctl[DONE] = seq;
        const worker = new node.workerThreads.Worker(HELPER_SOURCE, { eval: true, workerData: { ...workerData, control } });
        worker.unref();
        if (Atomics.wait(ctl, READY, 0, START_TIMEOUT_MS) === 'timed-out' && Atomics.load(ctl, READY) !== 1) {
          void worker.terminate();
          throw new Error(`a helper thread did not start within ${START_TIMEOUT_MS / 1000} s`);
        }
        this.helpers.push({ worker, ctl, args: new Float64Array(control, ARGS_BYTE, MAX_ARGS), seq });
      }
      return true;
    } catch (e) {
      this.failed = `kernel helper threads could not start: ${(e as Error).message}`;
      for (const h of this.helpers.splice(0)) void h.worker.terminate();
      notice(`vaekit: ${this.failed}; kernels run on one thread\n`);
      return false;
    }
  }

  /**
   * Hands helper `j` a job: kernel `kernel` with `args` (byte offsets and numbers, in `memory`).
   * A job of helper j's not yet waited for is first finished (or withdrawn, if not claimed yet).
   * Returns the job's number (for `current`).
   */
  hand(j: number, kernel: number, args: readonly number[]): number {
    if (args.length > MAX_ARGS) throw new Error(`HelperPool.hand: at most ${MAX_ARGS} arguments; got ${args.length}`);
    const h = this.helpers[j]!;
    this.drop(j);
    h.args.set(args);
    h.ctl[MODE] = 0;
    h.ctl[KERNEL] = kernel;
    h.ctl[ARGC] = args.length;
    h.seq = nextJob(h.seq);
    Atomics.store(h.ctl, CLAIM, h.seq);
    Atomics.store(h.ctl, SEQ, h.seq);
    Atomics.notify(h.ctl, SEQ);
    return h.seq;
  }

  /**
   * Runs kernel `kernel` in the chunks [bounds[c], bounds[c + 1]) taken by whichever thread is
   * free — this one (through `here`) and every helper — and returns when all are done: chunk c
   * gets `args` with arguments `lo` and `lo + 1` set to its bounds. A late or descheduled helper
   * takes fewer chunks (or none), so no thread waits for another beyond the chunk it is computing
   * (hence `guidedBounds`: smaller chunks last). Chunks must write disjoint memory; each chunk is
   * computed alike whichever thread takes it. Needs `ensure` first.
   */
  runChunked(kernel: number, args: readonly number[], lo: number, bounds: readonly number[], here: (args: number[]) => void, what: string): void {
    const count = bounds.length - 1;
    if (args.length > MAX_ARGS || lo + 1 >= args.length || count < 1 || count > MAX_CHUNKS) throw new Error(`${what}: a board job of ${count} chunks over arguments ${lo}, ${lo + 1} of ${args.length}`);
    const board = this.board;
    this.template.set(args);
    board[B_KERNEL] = kernel;
    board[B_ARGC] = args.length;
    board[B_LO] = lo;
    this.bounds.set(bounds);
    board[B_COUNT] = count;
    board[B_ERROR] = 0;
    Atomics.store(board, B_DONE, 0);
    this.tag = this.tag >= MAX_TAG ? 1 : this.tag + 1;
    const tag = this.tag;
    Atomics.store(board, B_NEXT, tag * 0x10000);
    for (const h of this.helpers) {
      h.ctl[MODE] = 1;
      h.ctl[TAG] = tag;
      h.seq = nextJob(h.seq);
      Atomics.store(h.ctl, CLAIM, h.seq);
      Atomics.store(h.ctl, SEQ, h.seq);
      Atomics.notify(h.ctl, SEQ);
    }
    let mine = 0;
    // A chunk that throws here is counted done like a helper's, and the error rethrown once no helper works on the job any more.
    let failure: unknown;
    const a = Array.from(args);
    for (;;) {
      const w = Atomics.load(board, B_NEXT);
      const c = w & 0xffff;
      if (c >= count) break;
      if (Atomics.compareExchange(board, B_NEXT, w, w + 1) !== w) continue;
      a[lo] = bounds[c]!;
      a[lo + 1] = bounds[c + 1]!;
      try {
        here(a);
      } catch (e) {
        failure ??= e;
      }
      mine++;
      Atomics.add(board, B_DONE, 1);
    }
    // Every chunk is taken: wait for the helpers' last ones.
    const started = performance.now();
    for (let i = 1; ; i++) {
      const done = Atomics.load(board, B_DONE);
      if (done === count) break;
      if ((i & 1023) !== 0) continue;
      const now = performance.now();
      if (now - started > JOB_TIMEOUT_MS) throw new Error(`${what}: a helper thread did not finish its part within ${JOB_TIMEOUT_MS / 1000} s`);
      if (now - started > POLL_MS) Atomics.wait(board, B_DONE, done, 1);
    }
    this.chunksHere += mine;
    this.chunksHelped += count - mine;
    if (failure !== undefined) throw failure;
    if (board[B_ERROR] === 1) throw new Error(`${what}: a helper thread failed on its part`);
  }

  /** The number of the last job handed to helper `j` (a job is current until the next is handed). */
  current(j: number): number | undefined {
    return this.helpers[j]?.seq;
  }

  /**
   * Waits for helper `j`'s current job, or computes it here if the helper has not claimed it yet.
   * When claimed, polls first (it is usually about to finish, and a sleeping thread here wakes up
   * to half a millisecond late on a virtual machine), then sleeps in short waits. `what` names the
   * job in errors.
   */
  wait(j: number, what: string): void {
    const h = this.helpers[j]!;
    if (Atomics.load(h.ctl, DONE) !== h.seq && Atomics.compareExchange(h.ctl, CLAIM, h.seq, 0) === h.seq) {
      this.runHere(h.ctl[KERNEL]!, Array.from(h.args.subarray(0, h.ctl[ARGC]!)));
      this.taken++;
      Atomics.store(h.ctl, DONE, h.seq);
      return;
    }
    const start = performance.now();
    for (let i = 1; ; i++) {
      if (Atomics.load(h.ctl, DONE) === h.seq) return this.check(h, j, what);
      if ((i & 1023) === 0 && performance.now() - start > POLL_MS) break;
    }
    const deadline = start + JOB_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(h.ctl, DONE);
      if (done === h.seq) return this.check(h, j, what);
      if (performance.now() > deadline) throw new Error(`${what}: helper thread ${j + 1} did not finish its part within ${JOB_TIMEOUT_MS / 1000} s`);
      Atomics.wait(h.ctl, DONE, done, 1);
    }
  }

  /** Finishes helper `j`'s current job if it is running, or withdraws it if it has not been claimed (its result is not wanted). */
  drop(j: number): void {
    const h = this.helpers[j];
    if (!h || Atomics.load(h.ctl, DONE) === h.seq) return;
    if (Atomics.compareExchange(h.ctl, CLAIM, h.seq, 0) === h.seq) {
      Atomics.store(h.ctl, DONE, h.seq);
      return;
    }
    this.wait(j, 'a dropped job');
  }

  /** Runs kernel `kernel` here on the helpers' memory (a job taken back). */
  private runHere(kernel: number, args: number[]): void {
    let fn = this.here.get(kernel);
    if (!fn) {
      const k = kernels[kernel]!;
      const m = modules[k.module]!;
      m.compiled ??= new WA.Module(m.shared);
      fn = new WA.Instance(m.compiled, { env: { memory: this.memory! } }).exports[k.name]!;
      this.here.set(kernel, fn);
    }
    fn(...args);
  }

  private check(h: Helper, j: number, what: string): void {
    if (Atomics.load(h.ctl, ERROR) === 1) throw new Error(`${what}: helper thread ${j + 1} failed on its part`);
  }

  /** Sets every helper's HOLD flag (see `holdHelpers`). */
  hold(on: boolean): void {
    for (const h of this.helpers) {
      Atomics.store(h.ctl, HOLD, on ? 1 : 0);
      Atomics.notify(h.ctl, HOLD);
    }
  }

  /** Stops the helpers (they are started again when next needed). */
  stop(): Promise<void> {
    const helpers = this.helpers.splice(0);
    for (const h of helpers) {
      this.lastSeq = Math.max(this.lastSeq, h.seq);
      Atomics.store(h.ctl, EXIT, 1);
      h.seq = nextJob(h.seq);
      Atomics.store(h.ctl, SEQ, h.seq);
      Atomics.notify(h.ctl, SEQ);
    }
    return Promise.all(helpers.map((h) => h.worker.terminate())).then(() => undefined);
  }
}

let pool: HelperPool | undefined;

/** This thread's helper pool. */
export function helperPool(): HelperPool {
  return (pool ??= new HelperPool());
}

/** Stops this thread's helpers, if any (they restart when needed). */
export function stopHelpers(): Promise<void> {
  return pool ? pool.stop() : Promise.resolve();
}

/**
 * For tests: while `on`, running helpers see the jobs handed to them but do not claim them, as
 * if descheduled, so this thread takes every job back. Helpers started later are not held.
 */
export function holdHelpers(on: boolean): void {
  pool?.hold(on);
}

/**
 * Bounds of chunks of [start, end) for `threads` threads, guided: each chunk is 1/(2·threads) of
 * what is left (at least `minChunk`), so the first chunks are large (few calls) and the last small
 * (a thread that finishes first waits for little); starts at multiples of `quantum` from `start`
 * (a kernel's vector loop then groups elements as in one call). At most 64 chunks.
 */
export function guidedBounds(start: number, end: number, threads: number, quantum = 1, minChunk = 1): number[] {
  const bounds = [start];
  let min = Math.max(minChunk, quantum, Math.ceil((end - start) / MAX_CHUNKS));
  min = quantum * Math.ceil(min / quantum);
  for (let at = start; at < end; ) {
    const size = Math.max(min, quantum * Math.ceil((end - at) / (2 * threads) / quantum));
    at = Math.min(end, at + size);
    bounds.push(at);
  }
  return bounds;
}

/**
 * Runs kernel `kernel` (`helperKernel`) in the chunks `bounds` (`guidedBounds`) on the shared
 * `memory`, taken by this thread (through `here`) and `threads − 1` helpers as each is free
 * (`HelperPool.runChunked`: arguments `lo` and `lo + 1` of `args` get each chunk's bounds). False
 * (nothing done) when helpers are unavailable. `what` names the kernel in errors.
 */
export function runChunks(memory: WasmMemory, threads: number, kernel: number, args: readonly number[], lo: number, bounds: readonly number[], here: (args: number[]) => void, what: string): boolean {
  const pool = helperPool();
  if (threads < 2 || !pool.ensure(threads - 1, memory)) return false;
  pool.runChunked(kernel, args, lo, bounds, here, what);
  return true;
}
