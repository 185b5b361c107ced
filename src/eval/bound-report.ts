import type { Vae } from '../core/vae.js';
import { checkPositiveInt, LogMeanExpAccumulator, streamLogWeights } from './log-likelihood.js';
import { formatDiagnostics, ImportanceDiagnosticsAccumulator, summarizeDiagnostics, type ImportanceDiagnostics } from './importance-diagnostics.js';
import { createProgress } from './progress.js';
import { rowBatches, rowCount, type EvalData } from './rows.js';
import { difference, meanStdErr, type Estimate } from './stats.js';

export interface BoundReportOptions {
  /** S, samples per row for the ELBO (default 100). */
  elboSamples?: number;
  /** The K of the IWAE_K column (default [1, 10, 100, 1000, 5000]). */
  iwaeSamples?: number[];
  /** K for log p̂(x) (default 5000). The samples drawn per row are max(llSamples, ...iwaeSamples). */
  llSamples?: number;
  /** Rows per batch (default 100). */
  batchSize?: number;
  /** Samples per network call (default 100). */
  chunk?: number;
  /** Reseeds `vae.random` first, for a reproducible report. */
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
  llSamples: number;
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
  /** log p̂(x) = IWAE at K = llSamples (one group). */
  logLikelihood: Estimate;
  /** log p̂(x) − ELBO per row, averaged: the estimate of KL(q(z|x) ‖ p(z|x)) (an under-estimate in expectation). */
  gap: Estimate;
  /** ESS and PSIS k̂ of the llSamples importance weights of log p̂(x), summarised over rows. */
  diagnostics: ImportanceDiagnostics;
  seed: number | null;
}

/**
 * ELBO, IWAE_K for several K, the importance-sampled log p̂(x) and the gap log p̂(x) − ELBO of a
 * model on a data set:
 *
 *   ELBO ≤ IWAE_1 ≈ ELBO ≤ IWAE_10 ≤ … ≤ IWAE_K → log p(x)   (each in expectation;
 *   Burda et al. 2015, arXiv:1509.00519, Theorem 1),
 *   gap = log p̂(x) − ELBO ≈ KL(q(z|x) ‖ p(z|x)).
 *
 * All IWAE_K come from one stream of max(llSamples, max K) log-weights per row: IWAE_K is the
 * mean of the ⌊total/K⌋ disjoint groups of K (an unbiased estimate of E[IWAE_K]); log p̂(x)
 * uses the first `llSamples` samples as one group, so it equals `estimateLogLikelihood` with the
 * same seed only when there is no ELBO draw before it (there is here: the ELBO is drawn first).
 */
export async function boundReport(vae: Vae, data: EvalData, options: BoundReportOptions = {}): Promise<BoundReport> {
  const {
    elboSamples = 100,
    iwaeSamples = [1, 10, 100, 1000, 5000],
    llSamples = 5000,
    batchSize = 100,
    chunk = 100,
    seed,
    binarizeSeed = 0,
    progress,
  } = options;
  checkPositiveInt('elboSamples', elboSamples);
  checkPositiveInt('llSamples', llSamples);
  checkPositiveInt('batchSize', batchSize);
  checkPositiveInt('chunk', chunk);
  if (!Array.isArray(iwaeSamples) || iwaeSamples.length === 0) {
    throw new Error(`iwaeSamples: expected a non-empty list of positive integers; got ${JSON.stringify(iwaeSamples)}`);
  }
  iwaeSamples.forEach((k, i) => checkPositiveInt(`iwaeSamples[${i}]`, k));
  const ks = [...new Set(iwaeSamples)].sort((a, b) => a - b);
  const total = Math.max(llSamples, ks[ks.length - 1]!);
  const n = rowCount(data);
  if (n === 0) throw new Error('data: expected at least one row; got 0');
  if (seed !== undefined) vae.random.reseed(seed);

  const elbo = new Float64Array(n);
  const rec = new Float64Array(n);
  const kl = new Float64Array(n);
  const ll = new Float64Array(n);
  const ess = new Float64Array(n);
  const paretoK = new Float64Array(n);
  const iw = ks.map(() => new Float64Array(n));
  let klExact = true;
  const groups = ks.map((k) => Math.floor(total / k));

  const bar = createProgress(`bound report (S=${elboSamples}, K=${total})`, n * (elboSamples + total), progress === undefined ? {} : { enabled: progress });
  try {
    for (const { x, start, end } of rowBatches(data, batchSize, { binarizeSeed })) {
      vae.checkInput(x, 'data');
      const b = end - start;
      // ELBO averaged over S draws, chunked: the ELBO is linear in the per-draw terms.
      for (let done = 0; done < elboSamples; ) {
        const c = Math.min(chunk, elboSamples - done);
        const r = vae.elbo(x, { samples: c });
        klExact &&= r.klExact;
        const [e, re, k] = await Promise.all([r.elbo.data(), r.reconstruction.data(), r.kl.data()]);
        r.elbo.dispose();
        r.reconstruction.dispose();
        r.kl.dispose();
        for (let i = 0; i < b; i++) {
          elbo[start + i] = elbo[start + i]! + (c * e[i]!) / elboSamples;
          rec[start + i] = rec[start + i]! + (c * re[i]!) / elboSamples;
          kl[start + i] = kl[start + i]! + (c * k[i]!) / elboSamples;
        }
        done += c;
        bar.tick(c * b);
      }
      const accs = ks.map((k) => new LogMeanExpAccumulator(b, k));
      const llAcc = new LogMeanExpAccumulator(b, llSamples);
      const diag = new ImportanceDiagnosticsAccumulator(b, llSamples);
      let drawn = 0;
      await streamLogWeights(vae, x, { samples: total, chunk, onChunk: (c) => bar.tick(c * b) }, (lw, c) => {
        for (const a of accs) a.push(lw, c);
        diag.push(lw, c);
        if (drawn < llSamples) {
          const use = Math.min(c, llSamples - drawn);
          llAcc.push(use === c ? lw : lw.subarray(0, use * b), use);
        }
        drawn += c;
      });
      accs.forEach((a, j) => iw[j]!.set(a.value(), start));
      ll.set(llAcc.value(), start);
      ess.set(diag.ess(), start);
      paretoK.set(diag.paretoK(), start);
    }
  } finally {
    bar.stop();
  }
  return {
    rows: n,
    elboSamples,
    llSamples,
    klExact,
    elbo: meanStdErr(elbo),
    reconstruction: meanStdErr(rec),
    kl: meanStdErr(kl),
    iwae: ks.map((k, j) => ({ samples: k, groups: groups[j]!, ...meanStdErr(iw[j]!) })),
    logLikelihood: meanStdErr(ll),
    gap: meanStdErr(difference(ll, elbo)),
    diagnostics: summarizeDiagnostics(ess, paretoK, llSamples),
    seed: seed ?? null,
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
  lines.push(`| log p̂(x) | ${report.llSamples} | ${f(report.logLikelihood.mean)} | ${f(report.logLikelihood.stdErr)} | |`);
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
