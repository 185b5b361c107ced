import { speedFixesSetting } from './speed-fixes.js';

/**
 * How many threads vaekit's own kernels may use in this thread: one large matrix product is split
 * between this thread and `n − 1` helper threads (`gemm-threads.ts`), each computing its own block
 * of the result with the same arithmetic, so the result is the same bits for every thread count.
 *
 * `'auto'` (the default) is the machine's cores, at most 4, in a Node main thread that is not a
 * forked job (`process.send` unset), and 1 elsewhere: in worker threads (the evaluation and
 * data-parallel training workers, which already use the other cores), in forked processes (the
 * tightness bench's jobs, one per core), in browsers, and on Node without
 * `process.getBuiltinModule` (before 20.16). `VAEKIT_KERNEL_THREADS=n` sets it from the
 * environment; `setSpeedFixes(false)` means 1.
 */
export type KernelThreadsSetting = number | 'auto';

let setting: KernelThreadsSetting | null = null;

/** Sets the thread count of vaekit's kernels (`null`: back to `VAEKIT_KERNEL_THREADS` or `'auto'`). */
export function setKernelThreads(n: KernelThreadsSetting | null): void {
  if (n !== null && n !== 'auto' && !(Number.isInteger(n) && n >= 1)) {
    throw new Error(`kernel threads: expected a positive integer or "auto"; got ${typeof n === 'number' ? String(n) : JSON.stringify(n)}`);
  }
  setting = n;
}

/** The Node built-in modules used here, reached synchronously (a kernel cannot await). */
export interface NodeThreadModules {
  workerThreads: typeof import('node:worker_threads');
  os: typeof import('node:os');
}

/** `node:worker_threads` and `node:os`, or undefined off Node or on a Node without `process.getBuiltinModule`. */
export function nodeThreadModules(): NodeThreadModules | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof p?.getBuiltinModule !== 'function') return undefined;
  return {
    workerThreads: p.getBuiltinModule('node:worker_threads') as NodeThreadModules['workerThreads'],
    os: p.getBuiltinModule('node:os') as NodeThreadModules['os'],
  };
}

function envSetting(): KernelThreadsSetting | undefined {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.VAEKIT_KERNEL_THREADS;
  if (v === undefined || v === '') return undefined;
  if (v === 'auto') return 'auto';
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`VAEKIT_KERNEL_THREADS: expected a positive integer or "auto"; got ${JSON.stringify(v)}`);
  return n;
}

/** The most threads `'auto'` picks (more helpers gain little on the products of these models). */
const AUTO_MAX = 4;

/** The kernel thread count in effect now (≥ 1). */
export function kernelThreads(): number {
  if (speedFixesSetting() === false) return 1;
  const s = setting ?? envSetting() ?? 'auto';
  if (s !== 'auto') return s;
  const node = nodeThreadModules();
  if (!node) return 1;
  const proc = globalThis as unknown as { process: { send?: unknown } };
  if (!node.workerThreads.isMainThread || typeof proc.process.send === 'function') return 1;
  return Math.max(1, Math.min(AUTO_MAX, node.os.availableParallelism()));
}

/** Runs `fn` with the kernel thread count set to `n`, restoring the previous setting after. */
export function withKernelThreads<T>(n: KernelThreadsSetting | null, fn: () => T): T {
  const before = setting;
  setKernelThreads(n);
  try {
    return fn();
  } finally {
    setting = before;
  }
}
