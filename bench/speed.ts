/**
 * Speed benchmark (issue 7): training steps of every plugin combination, the same step written
 * by hand in plain tfjs, the step with the transposed-matMul fix off, importance-sampled
 * evaluation throughput, and a profile of where a step's time goes. Writes
 * `<out>/speed.md` and `<out>/speed.json` and prints PASS/FAIL lines for the issue's targets.
 *
 *   npx tsx bench/speed.ts                 # every installed fast backend (tensorflow, wasm)
 *   npx tsx bench/speed.ts --backend cpu   # the plain-JS backend (slow: opt-in, small budget)
 *   npx tsx bench/speed.ts --quick --batch 100 --filter 'gaussian|planar'
 *
 * Flags: --quick (tiny budget, for tests), --backend auto|all|tensorflow|wasm|cpu[,…],
 * --batch 100,1000, --filter <regex on "encoder/likelihood">, --max-time <s per benchmark>,
 * --samples <K for IS, default 1000>, --out <dir> (default bench/results), --no-progress.
 *
 * Timings are wall-clock means from benchmark.js (deferred benchmarks: a step may await the
 * backend), with the relative margin of error at 95 %. Ratios compare rows measured in the
 * same run on the same backend and batch size.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Benchmark from 'benchmark';
import {
  ConfigError,
  PluginRegistry,
  Random,
  createContainer,
  createVae,
  setFastMatMul,
  tf,
  type ModelConfigInput,
} from '../plugins/index.js';
import { selectBackend } from '../src/backend/select-backend.js';
import { Adam } from '../src/nn/adam.js';
import { GEMM_KERNEL } from '../src/nn/gemm.js';
import { trainingLoss, trainingStep } from '../src/train/trainer.js';
import { createProgress } from '../src/eval/progress.js';
import { estimateLogLikelihood } from '../src/eval/log-likelihood.js';

export interface SpeedOptions {
  quick?: boolean;
  /** `auto` (tensorflow if installed, then wasm), `all` (adds cpu) or a list. */
  backends?: string[];
  batches?: number[];
  filter?: RegExp;
  /** Seconds per benchmark (benchmark.js `maxTime`). */
  maxTime?: number;
  /** K of the IS throughput measure. */
  isSamples?: number;
  out?: string;
  progress?: boolean;
  log?: (line: string) => void;
}

export type Variant = 'vaekit' | 'vaekit, fix off' | 'hand-written tfjs';

export interface StepRow {
  backend: string;
  batch: number;
  encoder: string;
  likelihood: string;
  variant: Variant;
  /** The model as built (encoder/prior/likelihood specs). */
  spec?: string;
  msPerStep: number;
  /** Relative margin of error of the mean, % (95 %). */
  rme: number;
  stepsPerSecond: number;
  samples: number;
  /** CPU time of this process per step (mean ms, relative margin of error %): robust to other processes on a busy machine. */
  cpuMsPerStep: number;
  cpuRme: number;
  /** Multiply-adds of the step's matrix products (product kernels of one profiled step; vaekit rows). */
  matmulMacs?: number;
  /** hand-written ms / this ms (> 1: faster than the hand-written step). */
  speedupOverHand?: number;
  tensorsBefore: number;
  tensorsAfter: number;
}

export interface EvalRow {
  backend: string;
  encoder: string;
  likelihood: string;
  samples: number;
  rows: number;
  msPerEstimate: number;
  estimatesPerSecond: number;
  /** CPU time of this process per estimate (single-threaded backends: the idle-machine wall time). */
  cpuMsPerEstimate: number;
  tensorsBefore: number;
  tensorsAfter: number;
}

export interface ProfileRow {
  backend: string;
  batch: number;
  /** ms per step in each phase (CPU time of this process, median of repeats). */
  forward: number;
  backward: number;
  adam: number;
  sync: number;
  total: number;
}

/**
 * A ratio of two steps measured interleaved: blocks of steps of A and of B alternate (ABBA…), so
 * drift in the machine's speed during the run hits both alike. Two estimates: the median of the
 * rounds' ratios (with a 95 % interval; the targets are checked on it) and, for information, the
 * ratio of each side's fastest block (interference only adds time, so the fastest blocks are the
 * least disturbed — but on this machine the two vary about as much from run to run).
 */
export interface PairedRow {
  backend: string;
  batch: number;
  /** A and B, e.g. `planar/bernoulli` and `gaussian/bernoulli`; ratio = A's ms per step / B's. */
  numerator: string;
  denominator: string;
  rounds: number;
  /** Steps per block of A and of B (each block ≈ 0.5 s). */
  stepsPerBlock: [number, number];
  /** Median over rounds of A's ms per step / B's, and a 95 % interval for it (order statistics). */
  ratio: number;
  low: number;
  high: number;
  /** A's fastest block ÷ B's fastest block (ms per step). */
  fastest: number;
}

export interface Check {
  ok: boolean;
  text: string;
}

export interface SpeedResult {
  date: string;
  node: string;
  quick: boolean;
  backends: string[];
  skipped: string[];
  steps: StepRow[];
  evaluation: EvalRow[];
  profile: ProfileRow[];
  paired: PairedRow[];
  checks: Check[];
}

const LATENT = 50;
const DIM = 784;
const HIDDEN = [200, 200];

/** The hand-written diag-Gaussian/Bernoulli VAE a tfjs user would write: variables, matMul, Adam. */
class HandWrittenVae {
  private readonly layers: { w: tf.Variable; b: tf.Variable }[];
  readonly optimizer = tf.train.adam(1e-3);

  constructor(seed: number) {
    const random = new Random(seed);
    const dense = (i: number, o: number) => {
      const lim = Math.sqrt(6 / (i + o));
      const w = new Float32Array(i * o).map(() => (2 * random.uniform() - 1) * lim);
      return tf.tidy(() => ({ w: tf.variable(tf.tensor2d(w, [i, o])), b: tf.variable(tf.zeros([o])) }));
    };
    // encoder 784-200-200 → (μ, log σ) 50 each; decoder 50-200-200-784.
    this.layers = [dense(DIM, 200), dense(200, 200), dense(200, LATENT), dense(200, LATENT), dense(LATENT, 200), dense(200, 200), dense(200, DIM)];
  }

  private apply(i: number, x: tf.Tensor): tf.Tensor {
    const l = this.layers[i]!;
    return tf.add(tf.matMul(x as tf.Tensor2D, l.w as tf.Tensor2D), l.b);
  }

  /** −ELBO: reparameterised z, Bernoulli log-likelihood from logits, closed-form KL. */
  loss(x: tf.Tensor2D): tf.Scalar {
    const h = tf.tanh(this.apply(1, tf.tanh(this.apply(0, x))));
    const mu = this.apply(2, h);
    const logStd = this.apply(3, h);
    const z = tf.add(mu, tf.mul(tf.exp(logStd), tf.randomNormal(mu.shape)));
    const logits = this.apply(6, tf.tanh(this.apply(5, tf.tanh(this.apply(4, z)))));
    const rec = tf.neg(tf.sum(tf.losses.sigmoidCrossEntropy(x, logits, undefined, 0, tf.Reduction.NONE), 1));
    const kl = tf.mul(0.5, tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(tf.mul(2, logStd))), tf.add(1, tf.mul(2, logStd))), 1));
    return tf.neg(tf.mean(tf.sub(rec, kl))) as tf.Scalar;
  }

  dispose(): void {
    for (const l of this.layers) tf.dispose([l.w, l.b]);
    this.optimizer.dispose();
  }
}

/** Option sets tried, in order, for an encoder (the first that builds is used). */
function encoderCandidates(name: string): Record<string, unknown>[] {
  const base = { type: name, hidden: HIDDEN, activation: 'tanh' };
  return [
    { ...base, steps: 10 }, // planar: 10 steps
    { ...base, steps: [{ type: 'planar', count: 10 }] }, // flow: 10 planar steps
    base,
    { ...base, sizes: [25, 25] }, // two-level / ladder: z₁, z₂ summing to 50
    { type: name },
  ];
}

/**
 * Priors tried for an encoder spec, most likely first: a prior of the encoder's own name with its
 * layer sizes (ladder/two-level pairs), then the standard normal, then every other prior. (A
 * failed `createVae` may leave the already-built encoder's variables behind, so the likely
 * match goes first.)
 */
function priorCandidates(registry: PluginRegistry, encoder: Record<string, unknown>): Record<string, unknown>[] {
  const names = registry.names('prior');
  const out: Record<string, unknown>[] = [];
  if (names.includes(encoder.type as string) && encoder.sizes) out.push({ type: encoder.type, sizes: encoder.sizes });
  if (names.includes('standard-normal')) out.push({ type: 'standard-normal' });
  for (const n of names) out.push({ type: n }, { type: n, sizes: [25, 25] });
  return out;
}

type ModelConfig = ModelConfigInput;

interface Combination {
  encoder: string;
  likelihood: string;
  config: ModelConfig;
}

/** Every registered encoder × the Bernoulli and Gaussian likelihoods, with a config that builds. */
function combinations(filter: RegExp | undefined, skipped: string[]): Combination[] {
  const registry = createContainer().get(PluginRegistry);
  const likelihoods = registry.names('likelihood').filter((n) => n === 'bernoulli' || n === 'gaussian');
  const out: Combination[] = [];
  for (const encoder of registry.names('encoder')) {
    for (const likelihood of likelihoods) {
      const key = `${encoder}/${likelihood}`;
      if (filter && !filter.test(key)) continue;
      let found: ModelConfig | null = null;
      let lastError = '';
      search: for (const enc of encoderCandidates(encoder)) {
        for (const prior of priorCandidates(registry, enc)) {
          const config: ModelConfig = {
            latentDim: LATENT,
            dataDim: DIM,
            encoder: enc as ModelConfig['encoder'],
            prior: prior as ModelConfig['encoder'],
            likelihood: { type: likelihood, hidden: HIDDEN, activation: 'tanh' },
            seed: 1,
          };
          try {
            createVae(config).dispose();
            found = config;
            break search;
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            lastError = e.message;
          }
        }
      }
      if (found) out.push({ encoder, likelihood, config: found });
      else skipped.push(`${key}: no configuration builds (${lastError})`);
    }
  }
  return out;
}

function binaryBatch(rows: number, seed: number): tf.Tensor2D {
  const random = new Random(seed);
  const x = new Float32Array(rows * DIM);
  for (let i = 0; i < x.length; i++) x[i] = random.uniform() < 0.13 ? 1 : 0;
  return tf.tensor2d(x, [rows, DIM]);
}

interface Measured {
  bench: Benchmark;
  before: number;
  after: number;
  /** CPU time of this process per call: mean ms and relative margin of error (95 %, %). */
  cpu: { mean: number; rme: number };
}

function meanRme(xs: number[]): { mean: number; rme: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  return { mean, rme: n > 1 ? (100 * 1.96 * sd) / Math.sqrt(n) / mean : NaN };
}

/**
 * Runs one deferred benchmark; `step` may return a promise (awaited before the next call).
 * Warm-up calls come first (first calls compile kernels and create optimiser slots); the live
 * tensor count is taken after them and after the benchmark.
 */
async function measure(
  name: string,
  step: () => void | Promise<void>,
  maxTime: number,
  quick: boolean,
  /** Releases what the step keeps between calls (pending losses) before tensors are counted. */
  settle: () => Promise<void> = async () => {},
): Promise<Measured> {
  // Warm-up (untimed): at least 3 steps and ~1 s, so JIT compilation, heap growth and wasm memory
  // growth are not charged to whichever benchmark happens to run first (without it the first
  // combination after the hand-written baseline measured 66–77 ms for a 41 ms step).
  const warmUntil = performance.now() + (quick ? 0 : Math.min(1000, (maxTime * 1000) / 3));
  for (let i = 0; i < (quick ? 1 : 3) || performance.now() < warmUntil; i++) await step();
  await settle();
  const before = tf.memory().numTensors;
  const cpu: number[] = [];
  const done = (t: NodeJS.CpuUsage, deferred: Benchmark.Deferred) => {
    const c = process.cpuUsage(t);
    cpu.push((c.user + c.system) / 1000);
    deferred.resolve();
  };
  const bench = new Benchmark(name, {
    defer: true,
    fn: (deferred: Benchmark.Deferred) => {
      const t = process.cpuUsage();
      const r = step();
      if (r) void r.then(() => done(t, deferred));
      else done(t, deferred);
    },
    maxTime,
    ...(quick ? { minSamples: 2, minTime: 0.001, initCount: 1, delay: 0 } : { minSamples: 5 }),
  } as Benchmark.Options);
  await new Promise<void>((done, fail) => {
    bench.on('complete', () => done());
    bench.on('error', () => fail((bench as unknown as { error: Error }).error));
    bench.run({ async: true });
  });
  const error = (bench as unknown as { error?: Error }).error;
  if (error) throw error;
  await settle();
  return { bench, before, after: tf.memory().numTensors, cpu: meanRme(cpu) };
}

/** Something whose training steps can be timed in blocks: `run(n)` takes n steps and waits for their losses. */
interface Stepper {
  label: string;
  run(n: number): Promise<void>;
  dispose(): void;
}

/** vaekit's training step as the trainer runs it (no read per step; the block's losses read once at its end). */
function vaekitStepper(label: string, config: ModelConfig, x: tf.Tensor2D): Stepper {
  const vae = createVae(config);
  const variables = vae.variables().map((v) => v.variable);
  const adam = new Adam(variables, { learningRate: 1e-4 });
  const objective = { type: 'elbo' as const, samples: 1 };
  return {
    label,
    run: async (n) => {
      const losses: tf.Scalar[] = [];
      for (let i = 0; i < n; i++) losses.push(trainingStep(vae, x, { variables, adam, objective }));
      const all = tf.stack(losses);
      await all.data();
      tf.dispose([all, ...losses]);
    },
    dispose: () => {
      adam.dispose();
      vae.dispose();
    },
  };
}

/** The hand-written step (tfjs's own matMul gradient, `minimize`, the loss read every step). */
function handStepper(x: tf.Tensor2D): Stepper {
  const hand = new HandWrittenVae(1);
  return {
    label: 'hand-written',
    run: async (n) => {
      setFastMatMul(false);
      try {
        for (let i = 0; i < n; i++) {
          const loss = hand.optimizer.minimize(() => hand.loss(x), true);
          await loss!.data();
          loss!.dispose();
        }
      } finally {
        setFastMatMul(null);
      }
    },
    dispose: () => hand.dispose(),
  };
}

/**
 * Multiply-adds in the matrix products of one call of `step`, from the shapes of its product
 * kernels (tf.profile: tfjs's BatchMatMul and vaekit's VaekitMatMul): out `[…, M, N]` from a
 * with M·K elements per batch entry.
 */
async function matmulMacs(step: () => void): Promise<number> {
  const info = await tf.profile(step);
  const size = (shape: number[]) => shape.reduce((p, q) => p * q, 1);
  let macs = 0;
  for (const k of info.kernels) {
    if (k.name !== 'BatchMatMul' && k.name !== '_FusedMatMul' && k.name !== GEMM_KERNEL) continue;
    const out = k.outputShapes[0]!;
    const rows = out[out.length - 2]!;
    const batch = size(out) / (rows * out[out.length - 1]!);
    macs += size(out) * (size(k.inputShapes[0]!) / (batch * rows));
  }
  return macs;
}

/** ms per step of one block of n steps: CPU time on the single-threaded backends, wall time on tensorflow. */
async function timeBlock(s: Stepper, n: number, wall: boolean): Promise<number> {
  const t = performance.now();
  const c = process.cpuUsage();
  await s.run(n);
  const cu = process.cpuUsage(c);
  return (wall ? performance.now() - t : (cu.user + cu.system) / 1000) / n;
}

/**
 * A 95 % interval for the median of `sorted` from order statistics: [x₍ₖ₎, x₍ₙ₋ₖ₊₁₎] with the
 * largest k such that P(Binomial(n, ½) < k) ≤ 2.5 % (n ≥ 6; smaller n gives [min, max]).
 */
export function medianInterval(sorted: readonly number[]): [number, number] {
  const n = sorted.length;
  let k = 0;
  let cdf = 0; // P(Bin(n, ½) ≤ k − 1)
  let term = 0.5 ** n; // P(Bin = k)
  while (k < n && cdf + term <= 0.025) {
    cdf += term;
    term = (term * (n - k)) / (k + 1);
    k++;
  }
  return k === 0 ? [sorted[0]!, sorted[n - 1]!] : [sorted[k - 1]!, sorted[n - k]!];
}

/** A's ms per step / B's, measured in alternating blocks (see `PairedRow`). */
async function pairedRatio(backend: string, batch: number, a: Stepper, b: Stepper, quick: boolean): Promise<PairedRow> {
  const wall = backend === 'tensorflow';
  // Warm-up (as in `measure`), then block sizes of ≈ 0.5 s from one timed block each: at batch
  // 1000 that is 3–5 steps, so one step slowed by another process moves a round's ratio less.
  const warm = async (s: Stepper) => {
    const until = performance.now() + (quick ? 0 : 1000);
    do await s.run(1);
    while (performance.now() < until);
    return timeBlock(s, quick ? 1 : 2, wall);
  };
  const [msA, msB] = [await warm(a), await warm(b)];
  const size = (ms: number) => (quick ? 1 : Math.max(1, Math.round(500 / ms)));
  const na = size(msA);
  const nb = size(msB);
  const rounds = quick ? 2 : 16;
  const ratios: number[] = [];
  let [minA, minB] = [Infinity, Infinity];
  for (let r = 0; r < rounds; r++) {
    let ta: number;
    let tb: number;
    if (r % 2 === 0) {
      ta = await timeBlock(a, na, wall);
      tb = await timeBlock(b, nb, wall);
    } else {
      tb = await timeBlock(b, nb, wall);
      ta = await timeBlock(a, na, wall);
    }
    ratios.push(ta / tb);
    minA = Math.min(minA, ta);
    minB = Math.min(minB, tb);
  }
  ratios.sort((p, q) => p - q);
  const [low, high] = medianInterval(ratios);
  const mid = Math.floor(rounds / 2);
  const ratio = rounds % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
  return { backend, batch, numerator: a.label, denominator: b.label, rounds, stepsPerBlock: [na, nb], ratio, low, high, fastest: minA / minB };
}

function stepRow(
  base: Omit<StepRow, 'msPerStep' | 'rme' | 'stepsPerSecond' | 'samples' | 'tensorsBefore' | 'tensorsAfter' | 'cpuMsPerStep' | 'cpuRme'>,
  { bench, before, after, cpu }: Measured,
): StepRow {
  const ms = bench.stats.mean * 1000;
  return {
    ...base,
    msPerStep: ms,
    rme: bench.stats.rme,
    stepsPerSecond: 1000 / ms,
    samples: bench.stats.sample.length,
    cpuMsPerStep: cpu.mean,
    cpuRme: cpu.rme,
    tensorsBefore: before,
    tensorsAfter: after,
  };
}

/** CPU ms of `f` per call: median over `repeats` blocks of `n` calls (after one warm-up block). */
function cpuMs(f: () => void, n: number, repeats: number): number {
  const blocks: number[] = [];
  for (let r = 0; r <= repeats; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < n; i++) f();
    const c = process.cpuUsage(t);
    if (r > 0) blocks.push((c.user + c.system) / 1000 / n);
  }
  blocks.sort((a, b) => a - b);
  return blocks[Math.floor(blocks.length / 2)]!;
}

/** Forward, backward, Adam and read-back time of the diagonal-Gaussian/Bernoulli step. */
function profileStep(backend: string, batch: number, quick: boolean): ProfileRow {
  const vae = createVae({ latentDim: LATENT, dataDim: DIM, encoder: { type: 'gaussian', hidden: HIDDEN }, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: HIDDEN }, seed: 1 });
  const x = binaryBatch(batch, 2);
  const variables = vae.variables().map((v) => v.variable);
  const adam = new Adam(variables, { learningRate: 1e-3 });
  const objective = { type: 'elbo' as const, samples: 1 };
  const n = quick ? 1 : Math.max(2, Math.round(2000 / batch));
  const repeats = quick ? 1 : 5;
  const forward = cpuMs(() => tf.dispose(trainingLoss(vae, x, objective, 1)), n, repeats);
  const grads = cpuMs(() => {
    const { value, grads } = tf.variableGrads(() => trainingLoss(vae, x, objective, 1), variables);
    tf.dispose([value, ...Object.values(grads)]);
  }, n, repeats);
  const step = cpuMs(() => tf.dispose(trainingStep(vae, x, { variables, adam, objective })), n, repeats);
  const synced = cpuMs(() => {
    const l = trainingStep(vae, x, { variables, adam, objective });
    l.dataSync();
    l.dispose();
  }, n, repeats);
  adam.dispose();
  vae.dispose();
  x.dispose();
  return { backend, batch, forward, backward: grads - forward, adam: step - grads, sync: synced - step, total: synced };
}

/**
 * The time ratios and targets compare: CPU ms per step on the single-threaded backends (wasm in
 * Node, cpu) — equal to wall time on an idle machine and unaffected by other processes on a busy
 * one — and wall ms on tensorflow (multi-threaded, where CPU time sums the threads).
 */
export function cost(s: StepRow): { ms: number; rme: number } {
  return s.backend === 'tensorflow' ? { ms: s.msPerStep, rme: s.rme } : { ms: s.cpuMsPerStep, rme: s.cpuRme };
}

const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');

/** A Markdown table: header cells, then rows; columns listed in `right` are right-aligned. */
function mdTable(header: string[], rows: string[][], right: number[]): string[] {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), `|${header.map((_, i) => (right.includes(i) ? '---:' : '---')).join('|')}|`, ...rows.map(line), ''];
}

function markdown(r: SpeedResult): string {
  const lines: string[] = [];
  lines.push('# vaekit speed benchmark', '');
  lines.push(`${r.date}, Node ${r.node}${r.quick ? ', **--quick budget (not for comparison)**' : ''}. Backends: ${r.backends.join(', ')}.`);
  lines.push('784-200-200-50 tanh networks, Adam, ELBO with K = 1; one step = gradients + update on a batch already on the backend.');
  lines.push('ms/step: benchmark.js wall-clock mean ± relative margin of error (95 %). CPU ms/step: CPU time of the process per step (mean ± rme).');
  lines.push('"× hand" = hand-written / this, measured in the same run on the same backend and batch, on CPU ms for wasm and cpu (single-threaded: equal to wall time on an idle machine, immune to other processes) and on wall ms for tensorflow; the targets use the same measure.');
  lines.push('"matmul MMAC": millions of multiply-adds in the step\'s matrix products (forward and backward), counted from the kernel shapes of one profiled step: the arithmetic a step cannot avoid.', '');
  for (const backend of r.backends) {
    for (const batch of [...new Set(r.steps.filter((s) => s.backend === backend).map((s) => s.batch))]) {
      lines.push(`## ${backend}, batch ${batch}`, '');
      lines.push(
        ...mdTable(
          ['encoder', 'likelihood', 'variant', 'ms/step', '± %', 'steps/s', 'CPU ms/step', '± %', '× hand', 'matmul MMAC', 'runs', 'tensors before → after'],
          r.steps
            .filter((q) => q.backend === backend && q.batch === batch)
            .map((s) => [
              s.encoder,
              s.likelihood,
              s.variant,
              fmt(s.msPerStep, 2),
              fmt(s.rme),
              fmt(s.stepsPerSecond),
              fmt(s.cpuMsPerStep, 2),
              fmt(s.cpuRme),
              s.speedupOverHand !== undefined ? fmt(s.speedupOverHand, 2) : '',
              s.matmulMacs !== undefined ? fmt(s.matmulMacs / 1e6) : '',
              String(s.samples),
              `${s.tensorsBefore} → ${s.tensorsAfter}`,
            ]),
          [3, 4, 5, 6, 7, 8, 9, 10],
        ),
      );
    }
  }
  if (r.evaluation.length) {
    lines.push('## Importance-sampled log-likelihood throughput', '');
    lines.push('One estimate = log p̂(x) of one row from K importance samples (`estimateLogLikelihood`, chunks of 100 samples, 10 rows per batch; one run).', '');
    lines.push(
      ...mdTable(
        ['backend', 'encoder', 'likelihood', 'K', 'rows', 'ms per estimate', 'estimates/s', 'CPU ms per estimate', 'estimates/s (CPU)', 'tensors before → after'],
        r.evaluation.map((e) => [e.backend, e.encoder, e.likelihood, String(e.samples), String(e.rows), fmt(e.msPerEstimate), fmt(e.estimatesPerSecond, 2), fmt(e.cpuMsPerEstimate), fmt(1000 / e.cpuMsPerEstimate, 2), `${e.tensorsBefore} → ${e.tensorsAfter}`]),
        [3, 4, 5, 6, 7, 8],
      ),
    );
  }
  if (r.profile.length) {
    lines.push('## Where a step goes (gaussian/bernoulli, CPU ms of this process, median)', '');
    lines.push(
      ...mdTable(
        ['backend', 'batch', 'forward', 'backward', 'Adam update', 'loss read', 'total'],
        r.profile.map((p) => [p.backend, String(p.batch), fmt(p.forward, 2), fmt(p.backward, 2), fmt(p.adam, 2), fmt(p.sync, 2), fmt(p.total, 2)]),
        [1, 2, 3, 4, 5, 6],
      ),
    );
  }
  if (r.paired.length) {
    lines.push('## Target ratios, measured interleaved', '');
    lines.push('Blocks of ≈ 0.5 s of steps of A and of B alternate (ABBA…) after a warm-up, so a change in the machine\'s speed during the run affects both; ratio = A\'s ms per step / B\'s (CPU ms; wall ms on tensorflow): the median over rounds with a 95 % interval from order statistics (the targets are checked on it), and the ratio of the two sides\' fastest blocks (for information: interference only adds time).', '');
    lines.push(
      ...mdTable(
        ['backend', 'batch', 'A', 'B', 'A ÷ B, median', '95 % interval', 'A ÷ B, fastest blocks', 'rounds', 'steps per block (A, B)'],
        r.paired.map((q) => [q.backend, String(q.batch), q.numerator, q.denominator, fmt(q.ratio, 2), `[${fmt(q.low, 2)}, ${fmt(q.high, 2)}]`, fmt(q.fastest, 2), String(q.rounds), q.stepsPerBlock.join(', ')]),
        [1, 4, 6, 7],
      ),
    );
  }
  lines.push('## Targets', '');
  for (const c of r.checks) lines.push(`- ${c.ok ? 'PASS' : 'FAIL'} ${c.text}`);
  if (r.skipped.length) {
    lines.push('', '## Skipped', '');
    for (const s of r.skipped) lines.push(`- ${s}`);
  }
  return lines.join('\n') + '\n';
}

function checks(r: SpeedResult): Check[] {
  const out: Check[] = [];
  const find = (backend: string, batch: number, encoder: string, likelihood: string, variant: Variant) =>
    r.steps.find((s) => s.backend === backend && s.batch === batch && s.encoder === encoder && s.likelihood === likelihood && s.variant === variant);
  for (const backend of r.backends) {
    const unit = backend === 'tensorflow' ? 'wall ms' : 'CPU ms';
    for (const batch of [...new Set(r.steps.filter((s) => s.backend === backend).map((s) => s.batch))]) {
      const where = `${backend}, batch ${batch}`;
      const pairedOf = (numerator: string, denominator: string) =>
        r.paired.find((q) => q.backend === backend && q.batch === batch && q.numerator === numerator && q.denominator === denominator);
      const interval = (q: PairedRow) =>
        `${fmt(q.ratio, 2)}× (95 % interval [${fmt(q.low, 2)}, ${fmt(q.high, 2)}], median of ${q.rounds} interleaved rounds; fastest blocks ${fmt(q.fastest, 2)}×)`;
      const ours = find(backend, batch, 'gaussian', 'bernoulli', 'vaekit');
      const hand = find(backend, batch, 'hand-written', 'bernoulli', 'hand-written tfjs');
      const handPair = pairedOf('hand-written', 'gaussian/bernoulli');
      if (ours && hand) {
        const tableRatio = cost(hand).ms / cost(ours).ms;
        const ratio = handPair ? handPair.ratio : tableRatio;
        const text = `${where}: gaussian/bernoulli step ${handPair ? interval(handPair) : `${fmt(ratio, 2)}×`} faster than hand-written (table: ${fmt(cost(ours).ms, 2)} vs ${fmt(cost(hand).ms, 2)} ${unit}, ${fmt(tableRatio, 2)}×)`;
        if (backend === 'wasm' && batch === 100) out.push({ ok: ratio >= 2.5, text: `${text} (target ≥ 2.5×)` });
        else out.push({ ok: true, text: `${text} (informational; the 2.5× target is for wasm, batch 100)` });
      }
      for (const s of r.steps.filter((q) => q.backend === backend && q.batch === batch && q.variant === 'vaekit')) {
        const off = find(backend, batch, s.encoder, s.likelihood, 'vaekit, fix off');
        if (!off) continue;
        const a = cost(s);
        const b = cost(off);
        // Slower only beyond the two margins of error (95 % half-widths of the two means).
        const noise = (a.ms * (a.rme || 0) + b.ms * (b.rme || 0)) / 100;
        const slower = a.ms - b.ms > noise;
        out.push({ ok: !slower, text: `${where}: ${s.encoder}/${s.likelihood} with the speed fixes ${fmt(a.ms, 2)} vs without ${fmt(b.ms, 2)} ${unit} (${fmt(b.ms / a.ms, 2)}×; not slower beyond ±${fmt(noise, 2)})` });
      }
      for (const likelihood of ['bernoulli', 'gaussian']) {
        const planar = find(backend, batch, 'planar', likelihood, 'vaekit');
        const diag = find(backend, batch, 'gaussian', likelihood, 'vaekit');
        const pair = pairedOf(`planar/${likelihood}`, `gaussian/${likelihood}`);
        if (planar && diag) {
          const tableRatio = cost(planar).ms / cost(diag).ms;
          const ratio = pair ? pair.ratio : tableRatio;
          const macs = planar.matmulMacs && diag.matmulMacs ? `; matmul multiply-adds alone ${fmt(planar.matmulMacs / diag.matmulMacs, 2)}×` : '';
          out.push({
            ok: ratio <= 1.5,
            text: `${where}: 10 planar steps cost ${pair ? interval(pair) : `${fmt(ratio, 2)}×`} the diagonal-Gaussian step with the ${likelihood} decoder (table: ${fmt(tableRatio, 2)}×${macs}) (target ≤ 1.5×)`,
          });
        }
      }
    }
  }
  const leaks = [...r.steps, ...r.evaluation].filter((s) => s.tensorsAfter !== s.tensorsBefore);
  out.push({
    ok: leaks.length === 0,
    text: leaks.length === 0 ? `tensor counts flat in all ${r.steps.length + r.evaluation.length} measurements` : `tensor counts grew in: ${leaks.map((l) => `${l.backend}/${l.encoder}/${l.likelihood}`).join(', ')}`,
  });
  return out;
}

async function availableBackends(requested: string[], skipped: string[]): Promise<string[]> {
  let wanted: string[];
  if (requested.includes('all')) wanted = ['tensorflow', 'wasm', 'cpu'];
  else if (requested.includes('auto')) wanted = ['tensorflow', 'wasm'];
  else wanted = requested;
  const out: string[] = [];
  for (const b of wanted) {
    try {
      await selectBackend(b, { quiet: true });
      out.push(b);
    } catch (e) {
      if (requested.includes('auto') || requested.includes('all')) skipped.push(`backend ${b}: not installed (${(e as Error).message})`);
      else throw e;
    }
  }
  if (requested.includes('auto')) skipped.push('backend cpu: opt-in (plain JS, ~5–10× slower than wasm): --backend cpu or --backend all');
  return out;
}

export async function runSpeedBench(options: SpeedOptions = {}): Promise<SpeedResult> {
  // benchmark.js would otherwise recompile step functions from their source, losing closures.
  (Benchmark.support as { decompilation: boolean }).decompilation = false;
  const quick = options.quick ?? false;
  const log = options.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const out = options.out ?? resolve('bench/results');
  const skipped: string[] = [];
  const initialBackend = tf.getBackend();
  const backends = await availableBackends(options.backends ?? ['auto'], skipped);
  const isSamples = options.isSamples ?? 1000;
  const result: SpeedResult = { date: new Date().toISOString(), node: process.version, quick, backends, skipped, steps: [], evaluation: [], profile: [], paired: [], checks: [] };

  for (const backend of backends) {
    await selectBackend(backend, { quiet: true });
    const cpu = backend === 'cpu';
    const batches = options.batches ?? (quick || cpu ? [100] : [100, 1000]);
    const maxTime = options.maxTime ?? (quick ? 0.02 : cpu ? 1 : 3);
    const combos = combinations(options.filter, backend === backends[0] ? skipped : []);
    const total = batches.length * (1 + 2 * combos.length) + combos.length;
    const bar = createProgress(`speed (${backend})`, total, options.progress === undefined ? {} : { enabled: options.progress });
    log(`speed: ${backend}: ${combos.length} combinations × batches ${batches.join(', ')}, ${maxTime}s per benchmark`);
    try {
      for (const batch of batches) {
        const x = binaryBatch(batch, batch);
        // The baseline a user writes: tfjs's own matMul gradient, minimize(), read the loss every step.
        const hand = new HandWrittenVae(1);
        const handBench = await measure(
          'hand-written',
          async () => {
            setFastMatMul(false);
            const cost = hand.optimizer.minimize(() => hand.loss(x), true);
            await cost!.data();
            cost!.dispose();
          },
          maxTime,
          quick,
        );
        setFastMatMul(null);
        const handRow = stepRow({ backend, batch, encoder: 'hand-written', likelihood: 'bernoulli', variant: 'hand-written tfjs' }, handBench);
        handRow.speedupOverHand = 1;
        const handCost = cost(handRow).ms;
        result.steps.push(handRow);
        hand.dispose();
        bar.tick();
        log(`  ${backend} b${batch} hand-written: ${fmt(handRow.msPerStep, 2)} ms ±${fmt(handRow.rme)}% (CPU ${fmt(handRow.cpuMsPerStep, 2)} ms)`);

        for (const c of combos) {
          const vae = createVae(c.config);
          const variables = vae.variables().map((v) => v.variable);
          const objective = { type: 'elbo' as const, samples: 1 };
          for (const variant of ['vaekit', 'vaekit, fix off'] as const) {
            const fix = variant === 'vaekit' ? null : false;
            const adam = new Adam(variables, { learningRate: 1e-4 });
            // The trainer's hot path: no read per step; the window's losses are read every 25 steps.
            const pending: tf.Scalar[] = [];
            const flush = async () => {
              const all = tf.stack(pending);
              await all.data();
              tf.dispose([all, ...pending]);
              pending.length = 0;
            };
            const bench = await measure(
              `${c.encoder}/${c.likelihood} ${variant}`,
              () => {
                setFastMatMul(fix);
                pending.push(trainingStep(vae, x, { variables, adam, objective }));
                if (pending.length === 25) return flush();
              },
              maxTime,
              quick,
              async () => {
                if (pending.length) await flush();
              },
            );
            setFastMatMul(null);
            const row = stepRow({ backend, batch, encoder: c.encoder, likelihood: c.likelihood, variant, spec: JSON.stringify({ encoder: (c.config as { encoder: unknown }).encoder, prior: (c.config as { prior: unknown }).prior }) }, bench);
            row.speedupOverHand = handCost / cost(row).ms;
            if (variant === 'vaekit') row.matmulMacs = await matmulMacs(() => tf.dispose(trainingStep(vae, x, { variables, adam, objective })));
            result.steps.push(row);
            adam.dispose();
            bar.tick();
            log(`  ${backend} b${batch} ${c.encoder}/${c.likelihood} ${variant}: ${fmt(row.msPerStep, 2)} ms ±${fmt(row.rme)}% (CPU ${fmt(row.cpuMsPerStep, 2)} ms, ${fmt(row.speedupOverHand, 2)}× hand)`);
          }
          vae.dispose();
        }

        // The target ratios, measured interleaved: hand-written ÷ vaekit (the speed-up) and
        // 10 planar steps ÷ the diagonal Gaussian, per decoder.
        const combo = (encoder: string, likelihood: string) => combos.find((c) => c.encoder === encoder && c.likelihood === likelihood);
        const pairs: [() => Stepper, () => Stepper][] = [];
        const gaussBern = combo('gaussian', 'bernoulli');
        if (gaussBern) pairs.push([() => handStepper(x), () => vaekitStepper('gaussian/bernoulli', gaussBern.config, x)]);
        for (const likelihood of ['bernoulli', 'gaussian']) {
          const planar = combo('planar', likelihood);
          const diag = combo('gaussian', likelihood);
          if (planar && diag) pairs.push([() => vaekitStepper(`planar/${likelihood}`, planar.config, x), () => vaekitStepper(`gaussian/${likelihood}`, diag.config, x)]);
        }
        for (const [makeA, makeB] of pairs) {
          const a = makeA();
          const b = makeB();
          try {
            const row = await pairedRatio(backend, batch, a, b, quick);
            result.paired.push(row);
            log(`  ${backend} b${batch} ${row.numerator} ÷ ${row.denominator} (interleaved): ${fmt(row.ratio, 2)} [${fmt(row.low, 2)}, ${fmt(row.high, 2)}]`);
          } finally {
            a.dispose();
            b.dispose();
          }
        }
        x.dispose();
      }

      // IS throughput: log p̂(x) at K samples per row, streamed in chunks of 100 samples.
      const rows = quick ? 2 : 10;
      const x = binaryBatch(rows, 7);
      for (const c of combos) {
        const vae = createVae(c.config);
        await estimateLogLikelihood(vae, x, { samples: Math.min(isSamples, 100), chunk: 100, batchSize: rows, progress: false, seed: 1 });
        const before = tf.memory().numTensors;
        const t = performance.now();
        const c0 = process.cpuUsage();
        await estimateLogLikelihood(vae, x, { samples: isSamples, chunk: 100, batchSize: rows, progress: false, seed: 1 });
        const cu = process.cpuUsage(c0);
        const ms = (performance.now() - t) / rows;
        const cpuMs = (cu.user + cu.system) / 1000 / rows;
        result.evaluation.push({
          backend,
          encoder: c.encoder,
          likelihood: c.likelihood,
          samples: isSamples,
          rows,
          msPerEstimate: ms,
          estimatesPerSecond: 1000 / ms,
          cpuMsPerEstimate: cpuMs,
          tensorsBefore: before,
          tensorsAfter: tf.memory().numTensors,
        });
        vae.dispose();
        bar.tick();
      }
      x.dispose();

      for (const batch of batches) result.profile.push(profileStep(backend, batch, quick));
    } finally {
      bar.stop();
      setFastMatMul(null);
    }
  }
  if (initialBackend) await selectBackend(initialBackend, { quiet: true });

  result.checks = checks(result);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'speed.json'), JSON.stringify(result, null, 2) + '\n');
  const md = markdown(result);
  writeFileSync(join(out, 'speed.md'), md);
  log('');
  log(md);
  return result;
}

export function parseArgs(argv: string[]): SpeedOptions {
  const o: SpeedOptions = {};
  const list = (v: string | undefined, flag: string) => {
    if (!v) throw new Error(`${flag}: expected a value`);
    return v.split(',').map((s) => s.trim()).filter(Boolean);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i];
    if (a === '--quick') o.quick = true;
    else if (a === '--no-progress') o.progress = false;
    else if (a === '--backend') o.backends = list(next(), a);
    else if (a === '--batch') {
      o.batches = list(next(), a).map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--batch: expected positive integers; got ${JSON.stringify(s)}`);
        return n;
      });
    } else if (a === '--filter') o.filter = new RegExp(list(next(), a).join(','));
    else if (a === '--max-time') {
      const s = Number(next());
      if (!(s > 0)) throw new Error(`--max-time: expected seconds > 0; got ${argv[i]}`);
      o.maxTime = s;
    } else if (a === '--samples') {
      const k = Number(next());
      if (!Number.isInteger(k) || k < 1) throw new Error(`--samples: expected a positive integer; got ${argv[i]}`);
      o.isSamples = k;
    } else if (a === '--out') o.out = resolve(list(next(), a).join(','));
    else throw new Error(`unknown flag ${JSON.stringify(a)}; expected --quick, --backend, --batch, --filter, --max-time, --samples, --out, --no-progress`);
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runSpeedBench(parseArgs(process.argv.slice(2)))
    .then((r) => {
      process.exitCode = r.checks.every((c) => c.ok) ? 0 : 1;
    })
    .catch((e: unknown) => {
      process.stderr.write(`speed: ${(e as Error).message}\n`);
      process.exitCode = 2;
    });
}
