import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { tf } from '../core/tf.js';
import type { Vae } from '../core/vae.js';
import type { BatchResult, EvalTask } from './batch-evaluation.js';
import type { BatchRunner, RowBlock } from './row-split.js';
import { isTypeScriptFile, nearestTsconfig } from '../config/nearest-tsconfig.js';

/** Parent → worker. */
export type ToEvalWorker =
  | {
      type: 'init';
      backend: string;
      /** Modules to import first: the package entry (registers the built-in plugins), then user plugin files. */
      modules: string[];
      spec: unknown;
      weights: { name: string; shape: number[]; values: Float32Array }[];
      task: EvalTask;
    }
  | { type: 'batch'; block: RowBlock }
  | { type: 'exit' };

/** Worker → parent. */
export type FromEvalWorker =
  | { type: 'ready'; backend: string }
  | { type: 'progress'; index: number; samples: number }
  | { type: 'result'; index: number; result: BatchResult }
  | { type: 'error'; index: number | null; message: string };

const SOURCE = import.meta.url.endsWith('.ts');
const ext = SOURCE ? 'ts' : 'js';
/** The worker's entry, and the package entry it imports (the built-in plugins register there; src/ itself never imports plugins/). */
export const EVAL_WORKER_URL = new URL(`./eval-worker.${ext}`, import.meta.url);
export const PACKAGE_ENTRY_URL = new URL(`../../plugins/index.${ext}`, import.meta.url);

/**
 * A worker for `EVAL_WORKER_URL`. Run from TypeScript sources, or given TypeScript plugin files,
 * it first registers tsx's loader in the thread (with the project's tsconfig.json, or the plugin
 * project's); without tsx a TypeScript plugin fails to load there and the evaluation falls back
 * to one thread, saying why.
 */
function spawn(pluginModules: readonly string[]): Worker {
  const tsPlugin = pluginModules.find((p) => isTypeScriptFile(p));
  if (!SOURCE && !tsPlugin) return new Worker(EVAL_WORKER_URL);
  let tsx: string;
  try {
    // tsx's ESM entry (`tsx/esm/api`, import condition), found from its package.json.
    tsx = new URL('./dist/esm/api/index.mjs', pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json'))).href;
  } catch {
    return new Worker(EVAL_WORKER_URL);
  }
  // The project's tsconfig (decorators), whatever the working directory.
  const tsconfig = SOURCE
    ? fileURLToPath(new URL('../../tsconfig.json', import.meta.url))
    : nearestTsconfig(dirname(tsPlugin!.startsWith('file:') ? fileURLToPath(tsPlugin!) : tsPlugin!));
  const options = tsconfig ? `{ tsconfig: ${JSON.stringify(tsconfig)} }` : '{}';
  const boot = `const { register } = await import(${JSON.stringify(tsx)}); register(${options}); await import(${JSON.stringify(EVAL_WORKER_URL.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}

interface Slot {
  worker: Worker;
  busy: { block: RowBlock; resolve: (r: BatchResult) => void; reject: (e: Error) => void; onSamples: (c: number) => void } | null;
}

/**
 * Starts `threads` evaluation workers, each holding a copy of `vae` (rebuilt from `vae.spec`
 * with its current weights, on this thread's backend) ready for `task`; resolves once every
 * worker has built its model, or rejects with the first worker's error (after stopping them all).
 */
export async function startEvalWorkers(vae: Vae, task: EvalTask, threads: number, pluginModules: readonly string[]): Promise<BatchRunner> {
  const backend = tf.getBackend();
  const weights = await Promise.all(
    vae.variables().map(async (v) => ({ name: v.name, shape: v.variable.shape, values: (await v.variable.data()) as Float32Array })),
  );
  const modules = [PACKAGE_ENTRY_URL.href, ...pluginModules.map((p) => (/^[a-z]+:/i.test(p) ? p : pathToFileURL(p).href))];
  const slots: Slot[] = [];
  const queue: { block: RowBlock; resolve: (r: BatchResult) => void; reject: (e: Error) => void; onSamples: (c: number) => void }[] = [];
  let failed: Error | null = null;
  let closed = false;

  const next = (slot: Slot) => {
    const job = queue.shift();
    if (!job) return;
    slot.busy = job;
    slot.worker.postMessage({ type: 'batch', block: job.block } satisfies ToEvalWorker, [job.block.values.buffer as ArrayBuffer]);
  };
  const fail = (e: Error) => {
    failed ??= e;
    for (const s of slots) {
      s.busy?.reject(e);
      s.busy = null;
    }
    for (const q of queue.splice(0)) q.reject(e);
  };

  const starts = Array.from({ length: threads }, () => {
    const worker = spawn(pluginModules);
    const slot: Slot = { worker, busy: null };
    slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (m: FromEvalWorker) => {
        if (m.type === 'ready') {
          started = true;
          resolve();
          next(slot);
        } else if (m.type === 'progress') slot.busy?.onSamples(m.samples);
        else if (m.type === 'result') {
          const job = slot.busy;
          slot.busy = null;
          job?.resolve(m.result);
          next(slot);
        } else {
          const e = new Error(m.message);
          if (!started) reject(e);
          else fail(e);
        }
      });
      worker.on('error', (e) => (started ? fail(e) : reject(e)));
      worker.on('exit', (code) => {
        const e = new Error(`an evaluation worker exited with code ${code}`);
        if (!started) reject(e);
        else if (!closed) fail(e);
      });
      worker.postMessage({ type: 'init', backend, modules, spec: vae.spec, weights, task } satisfies ToEvalWorker);
    });
  });
  const close = async () => {
    closed = true;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  };
  try {
    await Promise.all(starts);
  } catch (e) {
    await close();
    throw e;
  }
  return {
    threads,
    run: (block, onSamples) =>
      new Promise<BatchResult>((resolve, reject) => {
        if (failed) return reject(failed);
        queue.push({ block, resolve, reject, onSamples });
        const idle = slots.find((s) => !s.busy);
        if (idle) next(idle);
      }),
    close,
  };
}
