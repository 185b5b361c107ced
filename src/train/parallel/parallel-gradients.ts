import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tf } from '../../core/tf.js';
import type { Vae } from '../../core/vae.js';
import type { NamedVariable } from '../../core/variables.js';
import { builtWithUserPlugins, builtinPluginSources } from '../../config/create-vae.js';
import { speedFixesSetting } from '../../backend/speed-fixes.js';
import { withKernelThreads } from '../../backend/kernel-threads.js';
import { copyTensorInto } from '../../backend/tensor-copy.js';
import type { Objective } from '../../core/objective.js';
import { objectiveGradients, type ObjectiveSpec } from '../trainer.js';
import { rowShareObjective } from './row-share-objective.js';
import { Command, Scalar, Slot, readError, stepChannel, type StepChannel } from './step-channel.js';
import type { WorkerReply, WorkerSetup } from './gradient-worker.js';

/** The gradients of one step and its loss (caller-owned tensors, in the order of the variables). */
export interface StepGradients {
  value: tf.Scalar;
  grads: tf.Tensor[];
}

interface WorkerHandle {
  worker: import('node:worker_threads').Worker;
  channel: StepChannel;
  seq: number;
  exited: Promise<void>;
}

/**
 * The worker's bootstrap: imports `gradient-worker.js` next to this file, or, when vaekit runs
 * from its TypeScript sources, registers tsx's loader first and imports `gradient-worker.ts`.
 */
function workerScript(): { code: string } {
  if (!import.meta.url.endsWith('.ts')) {
    return { code: `import(${JSON.stringify(new URL('./gradient-worker.js', import.meta.url).href)});` };
  }
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxRoot, 'dist/esm/api/index.mjs')).href;
  const script = new URL('./gradient-worker.ts', import.meta.url).href;
  return { code: `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}); });` };
}

/** Objectives whose loss is a mean of per-row terms (so a block's share is its rows' mean × rows/B). */
const ROW_MEAN_OBJECTIVES = ['elbo', 'iwae'];

/** How long the training thread waits for a worker's step before it gives up. */
const STEP_TIMEOUT_MS = 600_000;

/**
 * Data-parallel gradients over `threads` threads: this (training) thread and `threads − 1`
 * worker threads, each with a copy of the model on the same backend.
 *
 * A batch of B rows is split into contiguous blocks of ⌈B/threads⌉ rows; this thread takes the
 * first. Each thread computes the gradient of its block's share of the batch loss, the mean
 * over its rows times rows/B (`rowShareObjective`), so the shares sum to the single-thread loss and
 * gradient. Noise is the single-thread draws: every thread restarts the model's random stream
 * from the same state and keeps its rows of each `normal([K, B, D])` (`Random.shareRows`), and the
 * stream ends where one thread's would. The gradients are added here, g = g₀ + g₁ + …, and the
 * one Adam update is this thread's, so the result equals one thread's up to float32 summation
 * order (sums over rows are split into blocks) and is deterministic for a seed and a thread
 * count. Workers hold no state: each step sends them the trained weights, β and the random
 * state, so rollbacks, replays and resumes work as on one thread.
 *
 * Objectives that are a mean over rows only (the built-in `elbo` and `iwae`, with any gradient
 * estimator): the free-bits clamp max(mean_B KL, c) couples rows, so a run with free bits stays
 * on one thread, as does a run with another objective (`start` says why).
 */
export class ParallelGradients {
  private constructor(
    private readonly vae: Vae,
    private readonly trained: readonly NamedVariable[],
    private readonly objective: Objective,
    private readonly workers: WorkerHandle[],
    private readonly dataDim: number,
  ) {}

  /** Main-thread time per phase, ms summed over steps (for profiling). */
  readonly stats = { steps: 0, prepare: 0, own: 0, wait: 0, sum: 0 };

  /** Threads in use (this one included). */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Starts `threads − 1` workers for training `trained` of `vae` on batches of at most
   * `batchSize` rows. Returns the reason instead when the run must stay on one thread (no
   * worker threads or shared memory here, speed fixes turned off with `setSpeedFixes(false)`,
   * free bits, a model built with user plugin modules, or a worker that failed to rebuild the
   * model).
   */
  static async start(
    vae: Vae,
    trained: readonly NamedVariable[],
    {
      threads,
      batchSize,
      objective,
      spec,
      freeBits,
    }: {
      threads: number;
      batchSize: number;
      /** The objective, built; and the spec it was built from (null: built by the caller, which a worker cannot rebuild). */
      objective: Objective;
      spec: ObjectiveSpec | null;
      freeBits: number;
    },
  ): Promise<ParallelGradients | { reason: string }> {
    if (speedFixesSetting() === false) return { reason: 'speed fixes are off (setSpeedFixes(false))' };
    if (freeBits > 0) return { reason: 'free bits couple the rows of a batch' };
    if (spec === null) return { reason: 'the objective was passed as a built object, which a worker cannot rebuild' };
    if (!ROW_MEAN_OBJECTIVES.includes(objective.name)) return { reason: `objective "${objective.name}" is not known to be a mean over rows` };
    if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return { reason: 'no shared memory here' };
    if (builtWithUserPlugins(vae)) return { reason: 'the model uses user plugin modules, which a worker cannot load' };
    const sources = builtinPluginSources();
    if (sources.length === 0) return { reason: 'no built-in plugin module registered (import the package entry)' };
    let workerThreads: typeof import('node:worker_threads');
    try {
      workerThreads = await import('node:worker_threads');
    } catch {
      return { reason: 'worker threads are not available' };
    }
    const perThread = Math.ceil(batchSize / threads);
    const sizes = { parameters: trained.reduce((n, v) => n + v.variable.size, 0), rowValues: perThread * vae.dataDim };
    const all = vae.variables();
    const setupBase = {
      sizes,
      backend: tf.getBackend(),
      sources: [...sources],
      spec: vae.spec,
      values: all.map((v) => ({ name: v.name, shape: v.variable.shape.slice(), values: v.variable.dataSync() as Float32Array })),
      trained: trained.map((v) => v.name),
      objective: spec,
      dataDim: vae.dataDim,
    };
    const script = workerScript();
    const handles: WorkerHandle[] = [];
    try {
      await Promise.all(
        Array.from({ length: threads - 1 }, async () => {
          const channel = stepChannel(sizes);
          const setup: WorkerSetup = { ...setupBase, buffer: channel.buffer };
          const worker = new workerThreads.Worker(script.code, {
            eval: true,
            workerData: setup,
            env: { ...process.env, VAEKIT_QUIET: '1' },
            stdout: true,
          });
          const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
          handles.push({ worker, channel, seq: 0, exited });
          const reply = await new Promise<WorkerReply>((resolve) => {
            worker.once('message', (m: WorkerReply) => resolve(m));
            worker.once('error', (e) => resolve({ type: 'failed', message: e.message }));
            worker.once('exit', (code) => resolve({ type: 'failed', message: `exited with code ${code}` }));
          });
          if (reply.type === 'failed') throw new Error(reply.message);
        }),
      );
    } catch (e) {
      await Promise.all(handles.map((h) => h.worker.terminate()));
      return { reason: `a worker could not start: ${e instanceof Error ? e.message : String(e)}` };
    }
    return new ParallelGradients(vae, trained, objective, handles, vae.dataDim);
  }

  /**
   * The loss and gradients of batch `x` at β = `beta`, split over the threads (see the class
   * doc). Synchronous: this thread blocks until every worker has finished its rows.
   */
  gradients(x: tf.Tensor2D, beta: number): StepGradients {
    const rows = x.shape[0];
    const block = Math.ceil(rows / this.threads);
    const busy = this.workers.filter((_, i) => (i + 1) * block < rows);
    if (busy.length === 0) return this.local(x, beta, { start: 0, end: rows, rows });
    const t0 = performance.now();
    const p = this.dataDim;
    const random = this.vae.random.getState();
    busy.forEach((h, i) => {
      const start = (i + 1) * block;
      const end = Math.min(rows, start + block);
      const ch = h.channel;
      let at = 0;
      for (const { variable } of this.trained) {
        copyTensorInto(variable, ch.weights, at);
        at += variable.size;
      }
      copyTensorInto(x, ch.rows, 0, start * p, end * p);
      const c = ch.control;
      c[Slot.Rows] = rows;
      c[Slot.Start] = start;
      c[Slot.End] = end;
      c[Slot.RandomState] = random.state | 0;
      c[Slot.HasSpare] = random.spare === null ? 0 : 1;
      ch.scalars[Scalar.Spare] = random.spare ?? 0;
      ch.scalars[Scalar.Beta] = beta;
      c[Slot.Command] = Command.Step;
      h.seq = Atomics.add(c, Slot.Seq, 1) + 1;
      Atomics.notify(c, Slot.Seq);
    });
    const t1 = performance.now();
    let own: StepGradients | null = null;
    let t2 = 0;
    try {
      const head = tf.slice(x, [0, 0], [block, p]) as tf.Tensor2D;
      try {
        // The workers use the other cores: this thread's products stay on it (no kernel helper threads).
        own = withKernelThreads(1, () => this.local(head, beta, { start: 0, end: block, rows }));
      } finally {
        head.dispose();
      }
    } finally {
      t2 = performance.now();
      // Workers must finish before anything else touches their channels, also when this thread threw.
      const failures = busy.map((h) => this.wait(h)).filter((m): m is string => m !== null);
      if (failures.length > 0) {
        if (own) tf.dispose([own.value, ...own.grads]);
        // eslint-disable-next-line no-unsafe-finally
        throw new Error(`parallel training: a worker's step failed: ${failures[0]}`);
      }
    }
    const t3 = performance.now();
    const result = own!;
    const sum = tf.tidy(() => {
      const grads = result.grads.map((g, i) => {
        let total = g;
        let at = this.trained.slice(0, i).reduce((n, v) => n + v.variable.size, 0);
        for (const h of busy) total = tf.add(total, tf.tensor(h.channel.gradients.subarray(at, at + g.size), g.shape, 'float32'));
        at += g.size;
        return total;
      });
      let value: tf.Tensor = result.value;
      for (const h of busy) value = tf.add(value, h.channel.scalars[Scalar.Loss]!);
      return { value: value as tf.Scalar, grads };
    });
    tf.dispose([result.value, ...result.grads]);
    const t4 = performance.now();
    const st = this.stats;
    st.steps++;
    st.prepare += t1 - t0;
    st.own += t2 - t1;
    st.wait += t3 - t2;
    st.sum += t4 - t3;
    return sum;
  }

  /** Gradients of rows `share` of a batch on this thread (all of it when `share` covers it). */
  private local(x: tf.Tensor2D, beta: number, share: { start: number; end: number; rows: number }): StepGradients {
    const whole = share.start === 0 && share.end === share.rows;
    if (whole) return objectiveGradients(this.vae, this.objective, this.trained, 0)(x, beta);
    this.vae.random.shareRows(share);
    try {
      return objectiveGradients(this.vae, rowShareObjective(this.objective, share), this.trained, 0)(x, beta);
    } finally {
      if (!whole) this.vae.random.shareRows(null);
    }
  }

  /** Blocks until worker `h` finished its step; its error message, or null. */
  private wait(h: WorkerHandle): string | null {
    const c = h.channel.control;
    const until = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(c, Slot.Done);
      if (done === h.seq) break;
      if (Date.now() > until) return `no answer within ${STEP_TIMEOUT_MS / 1000} s`;
      Atomics.wait(c, Slot.Done, done, 1000);
    }
    return c[Slot.Status] === 0 ? null : readError(h.channel);
  }

  /** Stops the workers. */
  async dispose(): Promise<void> {
    for (const h of this.workers) {
      h.channel.control[Slot.Command] = Command.Exit;
      Atomics.add(h.channel.control, Slot.Seq, 1);
      Atomics.notify(h.channel.control, Slot.Seq);
    }
    await Promise.all(this.workers.map((h) => h.exited));
  }
}
