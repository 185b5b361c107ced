import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, Job, JobResult, ToWorker } from './types.js';
import type { JobStage } from './progress.js';

export const WORKER_SCRIPT = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** A job and the ids of jobs that must finish first. */
export interface PoolJob {
  job: Job;
  after?: string[];
  /** Called when its dependencies are done, to fill in fields they produced (e.g. a decoder path). */
  prepare?: (done: Map<string, JobResult>) => void;
}

export interface PoolEvents {
  onReady?: (worker: number, backend: string) => void;
  onStart?: (worker: number, job: Job) => void;
  onStatus?: (worker: number, job: Job, text: string, stage?: JobStage) => void;
  onDone?: (worker: number, job: Job, result: JobResult) => void;
  onError?: (worker: number, job: Job, message: string) => void;
}

export interface PoolOutcome {
  results: Map<string, JobResult>;
  errors: Map<string, string>;
  backends: string[];
}

/**
 * Runs jobs in `workers` child processes (`node --import tsx worker.ts`, JSON messages over
 * IPC), each job when its dependencies have finished; a job whose dependency failed fails too.
 * Ready jobs are taken in list order.
 */
export async function runPool(jobs: readonly PoolJob[], workers: number, events: PoolEvents = {}, env: NodeJS.ProcessEnv = {}): Promise<PoolOutcome> {
  const results = new Map<string, JobResult>();
  const errors = new Map<string, string>();
  const backends: string[] = [];
  const pending = [...jobs];
  const ids = new Set(jobs.map((j) => j.job.id));
  for (const j of jobs) for (const a of j.after ?? []) if (!ids.has(a)) throw new Error(`job ${j.job.id} waits for unknown job ${a}`);
  const n = Math.max(1, Math.min(workers, jobs.length));
  let running = 0;

  return new Promise<PoolOutcome>((resolveAll, rejectAll) => {
    const children: ChildProcess[] = [];
    const busy: (Job | null)[] = [];
    let finished = false;

    const finish = () => {
      if (finished) return;
      finished = true;
      for (const c of children) if (c.connected) c.send({ type: 'exit' } satisfies ToWorker);
      resolveAll({ results, errors, backends });
    };

    const failDependents = () => {
      let changed = true;
      while (changed) {
        changed = false;
        for (let i = pending.length - 1; i >= 0; i--) {
          const p = pending[i]!;
          const bad = (p.after ?? []).find((a) => errors.has(a));
          if (bad) {
            errors.set(p.job.id, `not run: job ${bad} it depends on failed`);
            pending.splice(i, 1);
            changed = true;
          }
        }
      }
    };

    const dispatch = () => {
      failDependents();
      for (let w = 0; w < n; w++) {
        if (busy[w] !== null || !children[w]?.connected || !readyWorkers.has(w)) continue;
        const idx = pending.findIndex((p) => (p.after ?? []).every((a) => results.has(a)));
        if (idx < 0) break;
        const [p] = pending.splice(idx, 1);
        try {
          p!.prepare?.(results);
        } catch (e) {
          errors.set(p!.job.id, (e as Error).message);
          dispatch();
          return;
        }
        busy[w] = p!.job;
        running++;
        events.onStart?.(w, p!.job);
        children[w]!.send({ type: 'job', job: p!.job } satisfies ToWorker);
      }
      if (running === 0 && pending.length === 0) finish();
      else if (running === 0 && readyWorkers.size === n && pending.length > 0) {
        // Nothing runnable and nothing running: a dependency cycle or a failed chain.
        for (const p of pending) errors.set(p.job.id, 'not run: its dependencies never finished');
        pending.length = 0;
        finish();
      }
    };

    const readyWorkers = new Set<number>();
    for (let w = 0; w < n; w++) {
      busy.push(null);
      const child = fork(WORKER_SCRIPT, [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        env: { ...process.env, VAEKIT_QUIET: '1', ...env },
        serialization: 'advanced',
      });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      children.push(child);
      child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          backends[w] = m.backend;
          readyWorkers.add(w);
          events.onReady?.(w, m.backend);
          dispatch();
          return;
        }
        const job = busy[w];
        if (!job) return;
        if (m.type === 'status') {
          events.onStatus?.(w, job, m.text, m.stage);
          return;
        }
        busy[w] = null;
        running--;
        if (m.type === 'result') {
          results.set(job.id, m.result);
          events.onDone?.(w, job, m.result);
        } else {
          errors.set(job.id, m.message);
          events.onError?.(w, job, m.message);
        }
        dispatch();
      });
      child.on('exit', (code, signal) => {
        if (finished) return;
        const job = busy[w];
        readyWorkers.delete(w);
        const why = `worker ${w + 1} exited (code ${code}, signal ${signal})${stderr ? `: ${stderr.trim().split('\n').slice(-8).join('\n')}` : ''}`;
        if (job) {
          busy[w] = null;
          running--;
          errors.set(job.id, why);
          events.onError?.(w, job, why);
        }
        if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) {
          if (pending.length === 0 && running === 0) finish();
          else rejectAll(new Error(`every worker exited before the benchmark finished; last: ${why}`));
          return;
        }
        dispatch();
      });
    }
  });
}
