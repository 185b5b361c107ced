import type { Vae } from '../core/vae.js';
import { ensureBackend } from '../backend/select-backend.js';
import { checkPositiveInt, drawSeed, warn } from './log-likelihood.js';
import { evaluateRows, type RowSplitOptions } from './row-split.js';
import { rowCount, type EvalData } from './rows.js';
import { difference, meanStdErr, type Estimate } from './stats.js';
import { SAMPLE_COUNT_HINTS, checkOptionKeys, optionKeys } from '../core/option-keys.js';
import { formatDiagnostics, summarizeDiagnostics, type ImportanceDiagnostics } from './importance-diagnostics.js';

export interface BoundReportOptions extends RowSplitOptions {
  /** S, samples per row for the ELBO (default 100). */
  elboSamples?: number;
  /** The K of the IWAE_K column (default [1, 10, 100, 1000, 5000]). */
  iwaeSamples?: number[];
  /** K, importance samples per row for log p̂(x) (default 5000). The samples drawn per row are max(samples, ...iwaeSamples). */
  samples?: number;
  /** Rows per batch (default 100). */
  batchSize?: number;
  /** Samples per network call (default 100). */
  chunk?: number;
  /** Seed of the noise (batch j draws from `batchSeed(seed, j)`), for a reproducible report; absent: one drawn from `vae.random`. */
  seed?: number;
  /** Seed of the one-off binarisation of a `binarize: 'dynamic'` data set (default 0). */
  binarizeSeed?: number;
  /** Progress bar / lines; `false` for none. */
  progress?: boolean;
}

export interface IwaeEstimate extends Estimate {
  /** K. */
  samples: number;
  /** Independent groups of K samples averaged per row (⌊samples drawn / K⌋). */
  groups: number;
}

/** The bounds of one model on one data set, nats per data point (JSON-serialisable). */
export interface BoundReport {
  rows: number;
  elboSamples: number;
  /** K of log p̂(x). */
  samples: number;
  /** Whether the ELBO's KL(q(z|x) ‖ p(z)) was in closed form (else Monte Carlo). */
  klExact: boolean;
  /** ELBO = E_q[log p(x|z)] − KL(q ‖ p(z)), each row averaged over `elboSamples` draws. */
  elbo: Estimate;
  /** E_q[log p(x|z)]. */
  reconstruction: Estimate;
  /** KL(q(z|x) ‖ p(z)). */
  kl: Estimate;
  /** IWAE_K for each requested K, ascending. */
  iwae: IwaeEstimate[];
  /** log p̂(x) = IWAE at K = samples (one group). */
  logLikelihood: Estimate;
  /** log p̂(x) − ELBO per row, averaged: the estimate of KL(q(z|x) ‖ p(z|x)) (an under-estimate in expectation). */
  gap: Estimate;
  /** ESS and PSIS k̂ of the K = samples importance weights of log p̂(x), summarised over rows. */
  diagnostics: ImportanceDiagnostics;
  seed: number | null;
  /** Worker threads the rows were split over (1: the calling thread). */
  threads: number;
}

/**
 * ELBO, IWAE_K for several K, the importance-sampled log p̂(x) and the gap log p̂(x) − ELBO of a
 * model on a data set:
 *
 *   ELBO ≤ IWAE_1 ≈ ELBO ≤ IWAE_10 ≤ … ≤ IWAE_K → log p(x)   (each in expectation;
 *   Burda et al. 2015, arXiv:1509.00519, Theorem 1),
 *   gap = log p̂(x) − ELBO ≈ KL(q(z|x) ‖ p(z|x)).
 *
 * All IWAE_K come from one stream of max(samples, max K) log-weights per row: IWAE_K is the
 * mean of the ⌊total/K⌋ disjoint groups of K (an unbiased estimate of E[IWAE_K]); log p̂(x)
 * uses the first `samples` draws as one group, so it equals `estimateLogLikelihood` with the
 * same seed only when there is no ELBO draw before it (there is here: the ELBO is drawn first).
 * Batches are evaluated on worker threads as `estimateLogLikelihood`'s are (`workers`); the
 * report is the same for every worker count.
 */
const BOUND_REPORT_OPTIONS = optionKeys<BoundReportOptions>()('elboSamples', 'iwaeSamples', 'samples', 'batchSize', 'chunk', 'seed', 'binarizeSeed', 'progress', 'workers', 'pluginModules');

export async function boundReport(vae: Vae, data: EvalData, options: BoundReportOptions = {}): Promise<BoundReport> {
  checkOptionKeys('boundReport', options, BOUND_REPORT_OPTIONS, SAMPLE_COUNT_HINTS);
  const {
    elboSamples = 100,
    iwaeSamples = [1, 10, 100, 1000, 5000],
    samples = 5000,
    batchSize = 100,
    chunk = 100,
    seed,
    binarizeSeed = 0,
    progress,
    workers,
    pluginModules,
  } = options;
  checkPositiveInt('elboSamples', elboSamples);
  checkPositiveInt('samples', samples);
  checkPositiveInt('batchSize', batchSize);
  checkPositiveInt('chunk', chunk);
  if (!Array.isArray(iwaeSamples) || iwaeSamples.length === 0) {
    throw new Error(`iwaeSamples: expected a non-empty list of positive integers; got ${JSON.stringify(iwaeSamples)}`);
  }
  iwaeSamples.forEach((k, i) => checkPositiveInt(`iwaeSamples[${i}]`, k));
  const ks = [...new Set(iwaeSamples)].sort((a, b) => a - b);
  const total = Math.max(samples, ks[ks.length - 1]!);
  const n = rowCount(data);
  if (n === 0) throw new Error('data: expected at least one row; got 0');
  await ensureBackend();
  const groups = ks.map((k) => Math.floor(total / k));
  const r = await evaluateRows(vae, data, { kind: 'bounds', elboSamples, iwaeSamples: ks, samples, chunk }, {
    batchSize,
    binarizeSeed,
    seed: seed ?? drawSeed(vae),
    label: `bound report (S=${elboSamples}, K=${total})`,
    ...(progress === undefined ? {} : { progress }),
    ...(workers === undefined ? {} : { workers }),
    ...(pluginModules ? { pluginModules } : {}),
  });
  if (r.fallback) warn(r.fallback);
  const { elbo, reconstruction: rec, kl, logLikelihood: ll } = r.perRow as Record<'elbo' | 'reconstruction' | 'kl' | 'logLikelihood', Float64Array>;
  const iw = ks.map((k) => r.perRow[`iwae:${k}`]!);
  const klExact = r.flags.klExact ?? true;
  return {
    rows: n,
    elboSamples,
    samples,
    klExact,
    elbo: meanStdErr(elbo),
    reconstruction: meanStdErr(rec),
    kl: meanStdErr(kl),
    iwae: ks.map((k, j) => ({ samples: k, groups: groups[j]!, ...meanStdErr(iw[j]!) })),
    logLikelihood: meanStdErr(ll),
    gap: meanStdErr(difference(ll, elbo)),
    diagnostics: summarizeDiagnostics(r.perRow.ess!, r.perRow.paretoK!, samples),
    seed: seed ?? null,
    threads: r.threads,
  };
}

/** The sentence every bound table carries (Jensen's inequality on the estimator). */
export const LOG_P_HAT_NOTE =
  'log p̂(x) is itself a lower bound in expectation (Jensen: E[log p̂(x)] ≤ log E[p̂(x)] = log p(x)), ' +
  'so the gap log p̂(x) − ELBO under-states the true gap KL(q(z|x) ‖ p(z|x)); ' +
  'IWAE_K rising with K shows whether the estimate has converged.';

const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

/**
 * A Markdown table of one report (one line per bound, IWAE_K by K with its change from the
 * previous K so a reader sees convergence) followed by the note on log p̂(x).
 */
export function formatBoundReport(report: BoundReport, { title }: { title?: string } = {}): string {
  const lines: string[] = [];
  if (title) lines.push(`### ${title}`, '');
  lines.push(`${report.rows} rows; nats per data point; mean ± standard error across rows.`, '');
  lines.push('| bound | samples per row | mean | ± s.e. | change from previous K |');
  lines.push('|---|---:|---:|---:|---:|');
  lines.push(`| ELBO | ${report.elboSamples} | ${f(report.elbo.mean)} | ${f(report.elbo.stdErr)} | |`);
  lines.push(`| reconstruction E_q[log p(x\\|z)] | ${report.elboSamples} | ${f(report.reconstruction.mean)} | ${f(report.reconstruction.stdErr)} | |`);
  lines.push(`| KL(q(z\\|x) ‖ p(z)) (${report.klExact ? 'closed form' : 'Monte Carlo'}) | ${report.elboSamples} | ${f(report.kl.mean)} | ${f(report.kl.stdErr)} | |`);
  let prev: number | null = null;
  for (const e of report.iwae) {
    const delta = prev === null ? '' : (e.mean - prev >= 0 ? '+' : '') + f(e.mean - prev, 3);
    lines.push(`| IWAE_${e.samples} | ${e.samples} (${e.groups} group${e.groups === 1 ? '' : 's'}) | ${f(e.mean)} | ${f(e.stdErr)} | ${delta} |`);
    prev = e.mean;
  }
  lines.push(`| log p̂(x) | ${report.samples} | ${f(report.logLikelihood.mean)} | ${f(report.logLikelihood.stdErr)} | |`);
  lines.push(`| gap log p̂(x) − ELBO | | ${f(report.gap.mean)} | ${f(report.gap.stdErr)} | |`);
  lines.push('', LOG_P_HAT_NOTE);
  if (report.diagnostics) lines.push('', formatDiagnostics(report.diagnostics, report.rows));
  return lines.join('\n');
}

/**
 * Several models side by side: one row per model, columns ELBO, IWAE_K for each K, log p̂(x),
 * gap (mean ± s.e.), followed by the note on log p̂(x).
 */
export function formatBoundReports(reports: Record<string, BoundReport>): string {
  const names = Object.keys(reports);
  const ks = [...new Set(names.flatMap((n) => reports[n]!.iwae.map((e) => e.samples)))].sort((a, b) => a - b);
  const cell = (e: Estimate | undefined) => (e ? `${f(e.mean)} ± ${f(e.stdErr)}` : '—');
  const lines = [
    `| model | ELBO | ${ks.map((k) => `IWAE_${k}`).join(' | ')} | log p̂(x) | gap | ESS (median) | k̂ > 0.7 (rows) |`,
    `|---|---:|${ks.map(() => '---:').join('|')}|---:|---:|---:|---:|`,
  ];
  for (const n of names) {
    const r = reports[n]!;
    const byK = new Map(r.iwae.map((e) => [e.samples, e]));
    const d = r.diagnostics;
    const diag = d ? `${f(d.ess.median, 1)} of ${d.samples} | ${d.paretoK.above} of ${r.rows}` : '— | —';
    lines.push(`| ${n} | ${cell(r.elbo)} | ${ks.map((k) => cell(byK.get(k))).join(' | ')} | ${cell(r.logLikelihood)} | ${cell(r.gap)} | ${diag} |`);
  }
  lines.push('', LOG_P_HAT_NOTE);
  return lines.join('\n');
}
