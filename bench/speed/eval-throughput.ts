import { availableParallelism } from 'node:os';
import { batchSeed, createVae, estimateLogLikelihood, setKernelThreads, tf, type Vae } from '../../plugins/index.js';
import { startEvalWorkers } from '../../src/eval/eval-worker-pool.js';
import type { Combination } from './combinations.js';
import { binaryBatch } from './data.js';
import { medianWithInterval } from './paired-ratio.js';
import { matmulMacs } from './profile.js';
import type { PytorchReference } from './pytorch-reference.js';
import type { BlockTime } from './steppers.js';
import { timeHere } from './steppers.js';
import type { EvalRow, PairedRow } from './types.js';

/** One way of evaluating log p̂(x) of a block of rows at K samples: its label, threads and timed run. */
interface Evaluator {
  implementation: 'vaekit' | 'PyTorch';
  threads: number;
  /** vaekit in this thread: its kernels' threads (1 unless stated). */
  kernelThreads?: number;
  startSeconds?: number;
  run(): Promise<BlockTime>;
  close(): Promise<void>;
}

/**
 * vaekit in this thread: `estimateLogLikelihood` with one worker (chunks of 100 samples) and
 * `kernelThreads` kernel threads — 1, or the cores as `workers: 'auto'` evaluates where its kernels
 * work in place on every core (until workers pay off).
 */
function vaekitHere(vae: Vae, x: tf.Tensor2D, samples: number, kernelThreads = 1): Evaluator {
  return {
    implementation: 'vaekit',
    threads: 1,
    ...(kernelThreads > 1 ? { kernelThreads } : {}),
    run: () =>
      timeHere(async () => {
        setKernelThreads(kernelThreads);
        try {
          await estimateLogLikelihood(vae, x, { samples, chunk: 100, batchSize: x.shape[0], progress: false, seed: 1, workers: 1 });
        } finally {
          setKernelThreads(null);
        }
      }),
    close: async () => {},
  };
}

/** Rows per batch handed to an evaluation worker: a block of 50 rows is 10 batches over 2 workers. */
const ROWS_PER_BATCH = 5;

/**
 * vaekit on `threads` evaluation workers kept running between blocks (the start-up, paid once per
 * `estimateLogLikelihood` call, is reported apart): each block's rows are split into batches of
 * ROWS_PER_BATCH rows (each with its own seed) that the workers take as they finish one, as
 * `estimateLogLikelihood` hands out its batches, so a worker slowed by the machine takes fewer.
 */
async function vaekitWorkers(vae: Vae, x: tf.Tensor2D, samples: number, threads: number): Promise<Evaluator> {
  const t0 = performance.now();
  const runner = await startEvalWorkers(vae, { kind: 'log-likelihood', samples, chunk: 100 }, threads, []);
  const startSeconds = (performance.now() - t0) / 1000;
  const values = (await x.data()) as Float32Array;
  const rows = x.shape[0];
  const per = Math.min(ROWS_PER_BATCH, Math.ceil(rows / threads));
  return {
    implementation: 'vaekit',
    threads,
    startSeconds,
    run: () =>
      timeHere(async () => {
        const jobs = [];
        for (let j = 0, start = 0; start < rows; j++, start += per) {
          const n = Math.min(per, rows - start);
          const block = { index: j, start, rows: n, seed: batchSeed(1, j), values: values.slice(start * x.shape[1], (start + n) * x.shape[1]) };
          jobs.push(runner.run(block, () => {}));
        }
        await Promise.all(jobs);
      }),
    close: () => runner.close(),
  };
}

async function pytorchEvaluator(reference: PytorchReference, encoder: 'gaussian' | 'planar', rows: number, samples: number, threads: number): Promise<Evaluator> {
  const id = await reference.model(encoder);
  return {
    implementation: 'PyTorch',
    threads,
    run: () => reference.evaluate(id, rows, samples, threads),
    close: async () => void (await reference.request({ op: 'dispose', id })),
  };
}

export interface ThroughputOptions {
  backend: string;
  samples: number;
  /** Rows per block. */
  rows: number;
  rounds: number;
  /** PyTorch reference, when available. */
  reference: PytorchReference | null;
  /** Worker threads of the parallel vaekit evaluator (default: the cores). */
  workers?: number;
  /** Kernel threads of vaekit evaluating in this thread beside its one-thread row (1 or absent: no such row). */
  kernelThreads?: number;
}

/**
 * Importance-sampled log p̂(x) throughput at K = `samples` for one combination, in interleaved
 * rounds of one block per evaluator: vaekit on one thread, and for the gaussian and planar encoders
 * with the Bernoulli decoder also on `workers` worker threads, on this thread with `kernelThreads`
 * kernel threads, and (when the reference runs) PyTorch on 1 and on 2 threads. Rows/s per
 * evaluator (median over rounds, wall and CPU clocks), and the paired ratios of ms per row: vaekit
 * 1 thread ÷ PyTorch 1 thread (CPU), vaekit on workers ÷ PyTorch on 2 threads (wall; the target)
 * and vaekit with kernel threads ÷ PyTorch on 2 threads (wall).
 */
export async function evalThroughput(c: Combination, o: ThroughputOptions): Promise<{ rows: EvalRow[]; paired: PairedRow[] }> {
  const vae = createVae(c.config);
  const x = binaryBatch(o.rows, 7);
  // tfjs-node threads its own kernels over the cores: one evaluator thread there (workers × threads ≤ cores).
  const workers = o.backend === 'tensorflow' ? 1 : (o.workers ?? availableParallelism());
  const evaluators: Evaluator[] = [];
  const closeAll = () => Promise.all(evaluators.map((e) => e.close()));
  try {
    // Products per row: from one profiled call of 100 samples (the encoder's share counted once per call).
    const macs = (await matmulMacs(() => tf.dispose(vae.logWeights(x, { samples: Math.min(100, o.samples) })))) * (o.samples / Math.min(100, o.samples)) / o.rows;
    await estimateLogLikelihood(vae, x, { samples: Math.min(o.samples, 100), chunk: 100, batchSize: o.rows, progress: false, seed: 1, workers: 1 }); // warm-up
    const before = tf.memory().numTensors;
    evaluators.push(vaekitHere(vae, x, o.samples));
    // The issue's evaluation targets: the gaussian and planar encoders with the Bernoulli decoder.
    const target = c.likelihood === 'bernoulli' && (c.encoder === 'gaussian' || c.encoder === 'planar');
    if (target && workers > 1) evaluators.push(await vaekitWorkers(vae, x, o.samples, workers));
    const kernelThreads = o.backend === 'tensorflow' ? 1 : (o.kernelThreads ?? 1);
    if (target && kernelThreads > 1) evaluators.push(vaekitHere(vae, x, o.samples, kernelThreads));
    if (target && o.reference) for (const t of [1, 2]) evaluators.push(await pytorchEvaluator(o.reference, c.encoder as 'gaussian' | 'planar', o.rows, o.samples, t));
    const times: BlockTime[][] = evaluators.map(() => []);
    for (let r = 0; r < o.rounds; r++) {
      const order = r % 2 === 0 ? evaluators.map((_, i) => i) : evaluators.map((_, i) => evaluators.length - 1 - i);
      for (const i of order) times[i]!.push(await evaluators[i]!.run());
    }
    const after = tf.memory().numTensors;
    const rows: EvalRow[] = evaluators.map((e, i) => {
      const wall = medianWithInterval(times[i]!.map((t) => (1000 * o.rows) / t.wallMs));
      const cpu = medianWithInterval(times[i]!.map((t) => (1000 * o.rows) / t.cpuMs));
      return {
        backend: o.backend,
        encoder: c.encoder,
        likelihood: c.likelihood,
        implementation: e.implementation,
        threads: e.threads,
        ...(e.kernelThreads ? { kernelThreads: e.kernelThreads } : {}),
        samples: o.samples,
        rows: o.rows,
        blocks: o.rounds,
        rowsPerSecond: wall.median,
        low: wall.low,
        high: wall.high,
        rowsPerCpuSecond: cpu.median,
        ...(e.startSeconds !== undefined ? { startSeconds: e.startSeconds } : {}),
        gflops: (2 * macs * cpu.median) / 1e9,
        tensorsBefore: before,
        tensorsAfter: after,
      };
    });
    const paired: PairedRow[] = [];
    const pair = (a: number, b: number, clock: 'cpu' | 'wall') => {
      if (a < 0 || b < 0) return;
      const ms = (t: BlockTime) => (clock === 'cpu' ? t.cpuMs : t.wallMs) / o.rows;
      const ratios = times[a]!.map((t, r) => ms(t) / ms(times[b]![r]!));
      const m = medianWithInterval(ratios);
      const name = (e: Evaluator) => `${e.implementation} IS K=${o.samples}, ${e.threads} thread${e.threads === 1 ? '' : 's'}${e.kernelThreads ? `, ${e.kernelThreads} kernel threads` : ''}`;
      paired.push({
        backend: o.backend,
        batch: o.rows,
        numerator: `${c.encoder}/${c.likelihood} ${name(evaluators[a]!)}`,
        denominator: name(evaluators[b]!),
        clock,
        rounds: o.rounds,
        stepsPerBlock: [o.rows, o.rows],
        ratio: m.median,
        low: m.low,
        high: m.high,
        fastest: Math.min(...times[a]!.map(ms)) / Math.min(...times[b]!.map(ms)),
        msA: medianWithInterval(times[a]!.map(ms)).median,
        msB: medianWithInterval(times[b]!.map(ms)).median,
      });
    };
    const find = (impl: string, threads: number, kernel?: number) => evaluators.findIndex((e) => e.implementation === impl && e.threads === threads && e.kernelThreads === kernel);
    if (o.backend === 'tensorflow') pair(find('vaekit', 1), find('PyTorch', 2), 'wall');
    else {
      pair(find('vaekit', 1), find('PyTorch', 1), 'cpu');
      if (workers > 1) pair(find('vaekit', workers), find('PyTorch', 2), 'wall');
      if (kernelThreads > 1) pair(find('vaekit', 1, kernelThreads), find('PyTorch', 2), 'wall');
    }
    return { rows, paired };
  } finally {
    await closeAll();
    x.dispose();
    vae.dispose();
  }
}
