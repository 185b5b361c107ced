import { tf } from '../core/tf.js';
import { ensureBackend } from '../backend/select-backend.js';
import type { Vae } from '../core/vae.js';
import type { Progress } from './progress.js';
import { evaluateRows, type RowSplitOptions } from './row-split.js';
import { rowCount, type EvalData } from './rows.js';
import { meanStdErr } from './stats.js';
import { summarizeDiagnostics, type ImportanceDiagnostics } from './importance-diagnostics.js';

/**
 * Running log-mean-exp over the sample axis, per row, in float64, for groups of G consecutive
 * samples: after each complete group of G log-weights {a_1..a_G} of a row it adds
 * log (1/G) Σ_g exp(a_g) to that row's total. `value()` is the mean over the complete groups.
 *
 * With G = K (one group) this is the importance-sampled log p̂(x) = log (1/K) Σ_k w_k; with
 * G < K it is the average of K/G independent IWAE_G estimates from the same samples (an unbiased
 * estimate of E[IWAE_G] with lower variance than one group). Samples of an incomplete last group
 * are ignored.
 *
 * The state is a [B] running maximum m and a [B] scaled sum s with Σ exp(a) = exp(m)·s, updated
 * one sample at a time in the order the samples were drawn, so the result does not depend on
 * how the samples were chunked. A −∞ log-weight contributes 0; a NaN propagates.
 */
export class LogMeanExpAccumulator {
  private readonly m: Float64Array;
  private readonly s: Float64Array;
  private readonly total: Float64Array;
  private inGroup = 0;
  private groupCount = 0;
  private readonly logG: number;

  constructor(
    readonly rows: number,
    readonly group: number,
  ) {
    checkPositiveInt('group', group);
    this.m = new Float64Array(rows).fill(-Infinity);
    this.s = new Float64Array(rows);
    this.total = new Float64Array(rows);
    this.logG = Math.log(group);
  }

  /** Adds `samples` log-weights per row, row-major `[samples, B]` (the layout of a `[K, B]` tensor). */
  push(logW: ArrayLike<number>, samples: number): void {
    const b = this.rows;
    if (logW.length !== samples * b) {
      throw new Error(`LogMeanExpAccumulator.push: expected ${samples}×${b} = ${samples * b} values; got ${logW.length}`);
    }
    const { m, s } = this;
    for (let k = 0; k < samples; k++) {
      const off = k * b;
      for (let i = 0; i < b; i++) {
        const v = logW[off + i]!;
        if (v === -Infinity) continue;
        const mi = m[i]!;
        if (v > mi) {
          s[i] = s[i]! * Math.exp(mi - v) + 1;
          m[i] = v;
        } else {
          s[i] = s[i]! + Math.exp(v - mi);
        }
        if (Number.isNaN(v)) m[i] = NaN;
      }
      if (++this.inGroup === this.group) this.closeGroup();
    }
  }

  private closeGroup(): void {
    for (let i = 0; i < this.rows; i++) {
      this.total[i] = this.total[i]! + this.m[i]! + Math.log(this.s[i]!) - this.logG;
      this.m[i] = -Infinity;
      this.s[i] = 0;
    }
    this.inGroup = 0;
    this.groupCount++;
  }

  /** Complete groups so far. */
  get groups(): number {
    return this.groupCount;
  }

  /** Per-row mean over complete groups of log (1/G) Σ exp(a), `[B]` (NaN before the first group closes). */
  value(): Float64Array {
    const out = new Float64Array(this.rows);
    for (let i = 0; i < this.rows; i++) out[i] = this.groupCount ? this.total[i]! / this.groupCount : NaN;
    return out;
  }
}

/**
 * Draws `samples` log-weights log w = log p(x, z) − log q(z|x), z ~ q(z|x), for the rows of x in
 * chunks of at most `chunk` samples (`vae.logWeights(x, { samples: c })`, `[c, B]`), handing each
 * chunk to `consume` as row-major float32 `[c, B]`. Peak memory is that of one chunk (the decoder
 * output `[chunk, B, P]`), whatever `samples` is. Async so that a progress bar can redraw.
 */
export async function streamLogWeights(
  vae: Vae,
  x: tf.Tensor2D,
  { samples, chunk = 100, onChunk }: { samples: number; chunk?: number; onChunk?: (samplesDone: number) => void },
  consume: (logW: Float32Array, samples: number) => void,
): Promise<void> {
  checkPositiveInt('samples', samples);
  checkPositiveInt('chunk', chunk);
  for (let done = 0; done < samples; ) {
    const c = Math.min(chunk, samples - done);
    const lw = vae.logWeights(x, { samples: c });
    const values = (await lw.data()) as Float32Array;
    lw.dispose();
    consume(values, c);
    done += c;
    onChunk?.(c);
  }
}

export interface LogLikelihoodOptions extends RowSplitOptions {
  /** K, importance samples per row (default 5000). */
  samples?: number;
  /** Samples drawn per network call (default 100); memory grows with chunk × batchSize × P. */
  chunk?: number;
  /** Rows per batch (default 100); also the unit of work of a worker thread. */
  batchSize?: number;
  /** Progress bar (TTY) or lines (otherwise); `false` for none. Default: on unless `VAEKIT_QUIET=1`. */
  progress?: boolean;
  /** Seed of the noise (batch j draws from `batchSeed(seed, j)`); absent: one drawn from `vae.random`. */
  seed?: number;
  /** Seed of the one-off binarisation of a `binarize: 'dynamic'` data set (default 0). */
  binarizeSeed?: number;
  /** Label of the progress bar. */
  label?: string;
}

export interface LogLikelihoodEstimate {
  /** Mean over rows of log p̂(x), nats. */
  mean: number;
  /** Standard error of that mean across rows. */
  stdErr: number;
  /** log p̂(x) per row. */
  perRow: Float64Array;
  /** K. */
  samples: number;
  /** Worker threads the rows were split over (1: the calling thread). */
  threads: number;
  /** Every per-row field the batch evaluation produced (`logLikelihood` and any others), in row order. */
  fields: Record<string, Float64Array>;
  /** Effective sample size (Σw)²/Σw² of each row's K weights. */
  ess: Float64Array;
  /** PSIS Pareto k̂ of each row's K weights (> 0.7: that row's log p̂ is unreliable). */
  paretoK: Float64Array;
  /** ESS and k̂ summarised over rows. */
  diagnostics: ImportanceDiagnostics;
}

/**
 * Importance-sampled log-likelihood with the encoder as proposal:
 *
 *   log p̂(x) = log (1/K) Σ_k p(x, z_k) / q(z_k|x),   z_k ~ q(z|x),
 *
 * i.e. IWAE_K (Burda et al. 2015, arXiv:1509.00519) at large K. p̂(x) is unbiased for p(x), so
 * log p̂(x) is a lower bound in expectation (Jensen: E[log p̂] ≤ log E[p̂] = log p(x)) that
 * tightens as K grows; it is consistent (→ log p(x) as K → ∞) when q covers the posterior.
 *
 * Streamed over K in chunks with a running float64 log-sum-exp per row (see
 * `LogMeanExpAccumulator`), batched over rows: memory is bounded by one chunk whatever K is.
 * Batch j draws its noise from its own seed `batchSeed(seed, j)`, so the batches can be
 * evaluated on worker threads (`workers`, see `evaluateRows`) and the value is the same for
 * every worker count. `vae.random` draws normals in a chunk-independent order (`Random`), so for
 * a given seed and batch size the value is also the same for every chunk size (to float32
 * rounding of the network), provided the encoder draws all its noise per call as one
 * `normal([K, B, ·])` — every built-in encoder does (the hierarchical and two-level ones draw u
 * and z together and split). An encoder that makes two calls interleaves them per chunk: its
 * estimate is equally valid but changes with the chunk size.
 */
const LOG_LIKELIHOOD_OPTIONS = optionKeys<LogLikelihoodOptions>()('samples', 'chunk', 'batchSize', 'progress', 'seed', 'binarizeSeed', 'label', 'workers', 'pluginModules');

export async function estimateLogLikelihood(vae: Vae, data: EvalData, options: LogLikelihoodOptions = {}): Promise<LogLikelihoodEstimate> {
  checkOptionKeys('estimateLogLikelihood', options, LOG_LIKELIHOOD_OPTIONS, SAMPLE_COUNT_HINTS);
  const { samples = 5000, chunk = 100, batchSize = 100, progress, seed, binarizeSeed = 0, label, workers, pluginModules } = options;
  checkPositiveInt('samples', samples);
  checkPositiveInt('chunk', chunk);
  checkPositiveInt('batchSize', batchSize);
  const n = rowCount(data);
  if (n === 0) throw new Error('data: expected at least one row; got 0');
  await ensureBackend();
  const r = await evaluateRows(vae, data, { kind: 'log-likelihood', samples, chunk }, {
    batchSize,
    binarizeSeed,
    seed: seed ?? drawSeed(vae),
    label: label ?? `log p̂(x), K=${samples}`,
    ...(progress === undefined ? {} : { progress }),
    ...(workers === undefined ? {} : { workers }),
    ...(pluginModules ? { pluginModules } : {}),
  });
  if (r.fallback) warn(r.fallback);
  const perRow = r.perRow.logLikelihood!;
  const { mean, stdErr } = meanStdErr(perRow);
  const ess = r.perRow.ess!;
  const paretoK = r.perRow.paretoK!;
  return { mean, stdErr, perRow, samples, threads: r.threads, fields: r.perRow, ess, paretoK, diagnostics: summarizeDiagnostics(ess, paretoK, samples) };
}

/** A seed for an unseeded evaluation, drawn from (and advancing) the model's generator. */
export function drawSeed(vae: Vae): number {
  return Math.floor(vae.random.uniform() * 4294967296) >>> 0;
}

/** Says once per message on stderr (unless `VAEKIT_QUIET=1`) why an evaluation ran on one thread. */
const warned = new Set<string>();
export function warn(message: string): void {
  if (warned.has(message) || typeof process === 'undefined' || process.env?.VAEKIT_QUIET === '1') return;
  warned.add(message);
  process.stderr?.write(`vaekit: ${message}\n`);
}

import { checkPositiveInt } from '../core/checks.js';
import { SAMPLE_COUNT_HINTS, checkOptionKeys, optionKeys } from '../core/option-keys.js';

export { checkPositiveInt };

export type { Progress };
