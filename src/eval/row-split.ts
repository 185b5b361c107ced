import { tf } from '../core/tf.js';
import type { Vae } from '../core/vae.js';
import { batchSeed, evaluateBatch, samplesPerRow, type BatchResult, type EvalTask } from './batch-evaluation.js';
import { hostHeap } from '../backend/host-kernel.js';
import { kernelThreads } from '../backend/kernel-threads.js';
import { inPlaceHeap } from '../backend/shared-heap.js';
import { createProgress } from './progress.js';
import { rowBatches, rowCount, type EvalData } from './rows.js';

/** How an evaluation spreads its rows over threads. */
export interface RowSplitOptions {
  /**
   * Worker threads the batches are spread over: a number, or `'auto'` (default): one per core on
   * single-threaded backends (wasm, cpu) in Node's main thread, else 1 (tfjs-node threads its own
   * kernels; inside a worker thread or process pool the caller already uses the cores). Where this
   * thread's kernels already use every core in place (wasm on its shared heap), `'auto'` starts
   * the workers only for a rest of more than `WORKERS_PAY_OFF_SECONDS` and evaluates the rows here
   * until then. `VAEKIT_EVAL_WORKERS` overrides `'auto'`. 1 evaluates in this thread.
   */
  workers?: number | 'auto';
  /**
   * Modules a worker imports before it rebuilds the model, for plugins registered in this
   * process by a module file (e.g. a CLI `--plugin` path); their default export, if it is a
   * ContainerModule, is passed to `createVae`. The package entry (built-in plugins) is always loaded.
   */
  pluginModules?: string[];
}

export interface RowSplitRun extends RowSplitOptions {
  batchSize: number;
  binarizeSeed: number;
  /** Seed of the evaluation; batch j uses `batchSeed(seed, j)`. */
  seed: number;
  progress?: boolean;
  label: string;
  /** With `workers: 'auto'` and this thread's kernels on every core: the projected seconds of the rest of the rows here above which workers take it (default `WORKERS_PAY_OFF_SECONDS`). */
  workersPayOffSeconds?: number;
}

/** The per-row fields of every batch concatenated in row order, the flags ANDed, and the threads used. */
export interface RowSplitResult {
  perRow: Record<string, Float64Array>;
  flags: Record<string, boolean>;
  /** Worker threads that evaluated batches (1: this thread). */
  threads: number;
  /** Why workers were not used when they were asked for (absent otherwise). */
  fallback?: string;
}

/** One batch of rows as plain data (what crosses to a worker). */
export interface RowBlock {
  index: number;
  start: number;
  rows: number;
  seed: number;
  values: Float32Array;
}

/** Runs evaluation batches on worker threads (see eval-worker-pool.ts). */
export interface BatchRunner {
  readonly threads: number;
  run(block: RowBlock, onSamples: (samples: number) => void): Promise<BatchResult>;
  close(): Promise<void>;
}

/**
 * Imports a module only Node has (worker threads, and the pool built on them), reached only where
 * `process.versions.node` is set. The specifier goes through a variable so that browser bundlers
 * do not try to resolve it: the browser build evaluates on its one thread.
 */
function importNodeOnly<M>(specifier: string): Promise<M> {
  return import(/* @vite-ignore */ specifier) as Promise<M>;
}

function envWorkers(): number | undefined {
  const v = typeof process === 'undefined' ? undefined : process.env?.VAEKIT_EVAL_WORKERS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`VAEKIT_EVAL_WORKERS: expected a positive integer; got ${JSON.stringify(v)}`);
  return n;
}

/** The worker count `'auto'` means here (see `RowSplitOptions.workers`). */
export async function autoWorkers(): Promise<number> {
  const env = envWorkers();
  if (env !== undefined) return env;
  if (typeof process === 'undefined' || !process.versions?.node) return 1;
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  try {
    const [{ isMainThread }, { availableParallelism }] = await Promise.all([importNodeOnly<typeof import('node:worker_threads')>('node:worker_threads'), importNodeOnly<typeof import('node:os')>('node:os')]);
    return isMainThread && !process.send ? availableParallelism() : 1;
  } catch {
    return 1;
  }
}

/**
 * With `workers: 'auto'`, where this thread's kernels already run on every core in place (the wasm
 * backend on a shared heap, `kernelThreads() > 1`), the batches are evaluated here and worker
 * threads start only once the rest is projected to take longer than this many seconds here.
 * Starting two workers costs 1.5–2 s from the built package (3–3.5 s from the TypeScript sources
 * under tsx), after which they evaluate 1.2–1.3× the rows per second of this thread with its
 * kernel threads. Measured with `vaekit eval --model <dir> --samples 1000 --rows R --workers W`
 * from the build (784-200-200-50 Gaussian model, two runs each, wall seconds): 300 rows 5.4 and
 * 6.3 s here against 7.2 and 8.1 s on two workers; 1000 rows 14.4 and 15.1 against 13.1 and
 * 17.5 s (even); 3000 rows 38.8 and 35.1 with workers started after the first batch against
 * 37.7 and 34.6 s (even).
 */
export const WORKERS_PAY_OFF_SECONDS = 10;

/** Whether this thread's kernels run on more than one core, in place on a shared heap. */
function kernelsUseCoresHere(): boolean {
  return kernelThreads() > 1 && inPlaceHeap(hostHeap());
}

/**
 * Evaluates `task` on the rows of `data` in batches of `batchSize` rows, batch j with the
 * model's generator reseeded to `batchSeed(seed, j)`, on up to `workers` worker threads (each
 * with its own copy of the model rebuilt from its spec and weights on the same backend) or in
 * this thread. Batches go to whichever worker is free; results land by row offset, so the
 * per-row values are the same for every worker count (bit-identical on one backend: the same
 * rows, weights and noise through the same kernels). With `'auto'` where this thread's kernels
 * use every core, batches run here until the rest would take more than
 * `WORKERS_PAY_OFF_SECONDS` (then the workers take the rest). Where workers cannot start (no
 * `node:worker_threads`, a plugin the worker cannot load, …) it evaluates here and says why in
 * `fallback`.
 */
export async function evaluateRows(vae: Vae, data: EvalData, task: EvalTask, run: RowSplitRun): Promise<RowSplitResult> {
  const n = rowCount(data);
  const nBatches = Math.ceil(n / run.batchSize);
  const auto = run.workers === undefined || run.workers === 'auto';
  const fromEnv = auto ? envWorkers() : undefined;
  const asked: unknown = auto ? (fromEnv ?? (await autoWorkers())) : run.workers;
  if (typeof asked !== 'number' || !Number.isInteger(asked) || asked < 1) throw new Error(`workers: expected a positive integer or "auto"; got ${String(run.workers)}`);
  const perSample = samplesPerRow(task);
  const bar = createProgress(run.label, n * perSample, run.progress === undefined ? {} : { enabled: run.progress });
  const perRow: Record<string, Float64Array> = {};
  const flags: Record<string, boolean> = {};
  const place = (start: number, r: BatchResult) => {
    for (const [name, values] of Object.entries(r.perRow)) {
      (perRow[name] ??= new Float64Array(n).fill(NaN)).set(values, start);
    }
    for (const [name, v] of Object.entries(r.flags)) flags[name] = (flags[name] ?? true) && v;
  };
  let runner: BatchRunner | null = null;
  let fallback: string | undefined;
  /** Starts the workers for the batches from `j` on (null, with `fallback` set, if they cannot start). */
  const startWorkers = async (j: number): Promise<BatchRunner | null> => {
    try {
      const { startEvalWorkers } = await importNodeOnly<typeof import('./eval-worker-pool.js')>('./eval-worker-pool.js');
      return await startEvalWorkers(vae, task, Math.min(asked, nBatches - j), run.pluginModules ?? []);
    } catch (e) {
      fallback = `evaluation worker threads unavailable (${(e as Error).message.split('\n')[0]}); evaluating on one thread`;
      return null;
    }
  };
  try {
    // Workers from the start, unless 'auto' finds this thread's kernels on every core (then they start only for a long rest).
    const wanted = Math.min(asked, nBatches) > 1;
    const startHere = wanted && auto && fromEnv === undefined && kernelsUseCoresHere();
    if (wanted && !startHere) runner = await startWorkers(0);
    let tryLater = startHere;
    const pending = new Set<Promise<void>>();
    const began = performance.now();
    let j = 0;
    for (const { x, start, end } of rowBatches(data, run.batchSize, { binarizeSeed: run.binarizeSeed })) {
      if (tryLater && start > 0) {
        const projected = ((performance.now() - began) / 1000) * ((n - start) / start);
        if (projected > (run.workersPayOffSeconds ?? WORKERS_PAY_OFF_SECONDS)) {
          tryLater = false;
          runner = await startWorkers(j);
        }
      }
      if (runner) {
        const r = runner;
        vae.checkInput(x, 'data');
        const block: RowBlock = { index: j, start, rows: end - start, seed: batchSeed(run.seed, j), values: new Float32Array(x.dataSync()) };
        const p = r.run(block, (c) => bar.tick(c * block.rows)).then((res) => place(block.start, res));
        pending.add(p);
        void p.finally(() => pending.delete(p)).catch(() => {});
        // Keep at most two batches per worker in flight: rows are binarised and copied ahead of need only.
        if (pending.size >= 2 * r.threads) await Promise.race(pending);
      } else {
        vae.random.reseed(batchSeed(run.seed, j));
        place(start, await evaluateBatch(vae, x, task, (c) => bar.tick(c * (end - start))));
      }
      j++;
    }
    await Promise.all(pending);
  } finally {
    bar.stop();
    await runner?.close();
  }
  return { perRow, flags, threads: runner?.threads ?? 1, ...(fallback ? { fallback } : {}) };
}
