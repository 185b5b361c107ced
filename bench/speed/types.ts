/** The speed bench's options and result records (JSON-serialisable: they are written to speed.json). */

export interface SpeedOptions {
  quick?: boolean;
  /** Only the rows of the PyTorch targets (no step table, hand-written, planar ÷ gaussian or profile rows). */
  targets?: boolean;
  /** `auto` (tensorflow if installed, then wasm), `all` (adds cpu) or a list. */
  backends?: string[];
  batches?: number[];
  filter?: RegExp;
  /** Seconds per benchmark (benchmark.js `maxTime`). */
  maxTime?: number;
  /** K of the IS throughput measure. */
  isSamples?: number;
  /** The Python interpreter of the PyTorch reference (default /usr/bin/python3); `false` skips it. */
  python?: string | false;
  /** Interleaved rounds of the paired ratios (default 16; 2 with --quick). */
  rounds?: number;
  /** Kernel threads of the "vaekit as it runs by default" rows (default: `kernelThreads()` with the setting 'auto', the cores up to 4). */
  kernelThreads?: number;
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

/** Importance-sampled log p̂(x) throughput of one implementation at K samples per row. */
export interface EvalRow {
  backend: string;
  encoder: string;
  likelihood: string;
  /** `vaekit` or `PyTorch`. */
  implementation: string;
  /** Worker threads (vaekit) or torch threads (PyTorch). */
  threads: number;
  /** vaekit on one thread: its kernels' threads, when more than 1. */
  kernelThreads?: number;
  samples: number;
  /** Rows per timed block. */
  rows: number;
  blocks: number;
  /** Median over blocks of rows per second of wall time, with a 95 % interval. */
  rowsPerSecond: number;
  low: number;
  high: number;
  /** Median over blocks of rows per second of CPU time (all threads of the process). */
  rowsPerCpuSecond: number;
  /** vaekit: start-up of the worker threads, s (paid once per evaluation). */
  startSeconds?: number;
  /** GFLOP/s of the matrix products per core: 2 · multiply-adds per row · rows per CPU second (robust to other processes). */
  gflops?: number;
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
  total: number;
  /** GFLOP/s of the step's matrix products over the whole step's CPU time. */
  gflops: number;
}

/**
 * A ratio of two steps measured interleaved: blocks of steps of A and of B alternate (ABBA…), so
 * drift in the machine's speed during the run hits both alike. The median of the rounds' ratios
 * with a 95 % interval (the targets are checked on it) and, for information, the ratio of each
 * side's fastest block.
 */
export interface PairedRow {
  backend: string;
  batch: number;
  /** A and B, e.g. `planar/bernoulli` and `gaussian/bernoulli`; ratio = A's ms per step / B's. */
  numerator: string;
  denominator: string;
  /** `cpu`: CPU ms of each side's process (both single-threaded); `wall`: wall ms. */
  clock: 'cpu' | 'wall';
  rounds: number;
  /** Steps per block of A and of B (each block ≈ 0.5 s). */
  stepsPerBlock: [number, number];
  /** Median over rounds of A's ms per step / B's, and a 95 % interval for it (order statistics). */
  ratio: number;
  low: number;
  high: number;
  /** A's fastest block ÷ B's fastest block (ms per step). */
  fastest: number;
  /** Median ms per step of A and of B on the clock. */
  msA: number;
  msB: number;
}

export interface Check {
  ok: boolean;
  text: string;
}

/** The PyTorch reference as it ran (or why it did not). */
export interface PytorchInfo {
  available: boolean;
  /** Why it was skipped. */
  reason?: string;
  torch?: string;
  /** BLAS library, OpenBLAS config and the core it picked. */
  blas?: string;
  threads?: number;
  env?: Record<string, string | null>;
}

/** The machine while the bench ran: the 1-minute load average before and after, the cores, and the kernel threads of the vaekit-as-default rows. */
export interface MachineLoad {
  cores: number;
  kernelThreads: number;
  loadBefore: number;
  loadAfter: number;
}

export interface SpeedResult {
  date: string;
  node: string;
  quick: boolean;
  backends: string[];
  skipped: string[];
  machine: MachineLoad;
  pytorch: PytorchInfo;
  steps: StepRow[];
  evaluation: EvalRow[];
  profile: ProfileRow[];
  paired: PairedRow[];
  checks: Check[];
}
