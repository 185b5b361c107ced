/**
 * The parity table: per side and initialisation, the test ELBO and log p̂(x) = IWAE_K over seeds,
 * and each comparison's difference of means against the seed-to-seed spread. Pure functions.
 *
 * Seeds are the unit: each side's seed s is an independent replicate (initialisation, data order,
 * binarisation draws, noise; the two sides share no random stream), so a difference of means gets
 * Welch's 95 % t interval. The seed-to-seed interval is ± t₀.₉₇₅,ₙ₋₁ · s_pooled, where one seed's
 * result lies around its side's mean; both sides are evaluated on the same fixed test rows, so
 * the test-row sampling error is common to both and drops out of the difference.
 */
import { studentTQuantile, summarizeSeeds, welchDifference, type SeedDifference, type SeedSummary } from '../../src/eval/seed-stats.js';
import type { Init, ParityRun, ParitySettings, Side } from './types.js';

export const METRICS = ['elbo', 'logLikelihood'] as const;
export type Metric = (typeof METRICS)[number];

export interface ParityGroup {
  side: Side;
  init: Init;
  seeds: number[];
  summary: Record<Metric, SeedSummary>;
  trainSeconds: number;
  cpuSeconds: number;
}

export interface ParityComparison {
  /** a − b, e.g. `vaekit · glorot` − `pytorch · glorot`. */
  a: string;
  b: string;
  difference: Record<Metric, SeedDifference>;
  /** ± half-width of the seed-to-seed interval, t₀.₉₇₅,ₙ₋₁ · s_pooled (pooled over both groups). */
  seedSpread: Record<Metric, number>;
  /** `within seed noise` when every metric's 95 % interval contains 0, else `systematic`. */
  verdict: 'within seed noise' | 'systematic' | 'too few seeds';
}

export const groupName = (side: Side, init: Init): string => `${side} · ${init}`;

/** Groups runs by side and init (seed order), refusing runs of different settings. */
export function parityGroups(runs: readonly ParityRun[]): ParityGroup[] {
  const first = runs[0];
  for (const r of runs) {
    const a = JSON.stringify(r.settings);
    if (a !== JSON.stringify(first!.settings)) {
      throw new Error(`parity: runs of different settings: ${groupName(r.side, r.init)} seed ${r.seed} has ${a}, ${groupName(first!.side, first!.init)} seed ${first!.seed} has ${JSON.stringify(first!.settings)}`);
    }
  }
  const keys = [...new Set(runs.map((r) => groupName(r.side, r.init)))].sort();
  return keys.map((k) => {
    const rs = runs.filter((r) => groupName(r.side, r.init) === k).sort((p, q) => p.seed - q.seed);
    const mean = (f: (r: ParityRun) => number) => rs.reduce((t, r) => t + f(r), 0) / rs.length;
    return {
      side: rs[0]!.side,
      init: rs[0]!.init,
      seeds: rs.map((r) => r.seed),
      summary: { elbo: summarizeSeeds(rs.map((r) => r.elbo)), logLikelihood: summarizeSeeds(rs.map((r) => r.logLikelihood)) },
      trainSeconds: mean((r) => r.trainSeconds),
      cpuSeconds: mean((r) => r.cpuSeconds),
    };
  });
}

/** a − b for every metric: Welch's interval and the pooled seed-to-seed half-width. */
export function compareGroups(a: ParityGroup, b: ParityGroup): ParityComparison {
  const difference = {} as Record<Metric, SeedDifference>;
  const seedSpread = {} as Record<Metric, number>;
  for (const m of METRICS) {
    const sa = a.summary[m];
    const sb = b.summary[m];
    difference[m] = welchDifference(sa.values, sb.values);
    const df = sa.n + sb.n - 2;
    const pooled = Math.sqrt(((sa.n - 1) * sa.sd ** 2 + (sb.n - 1) * sb.sd ** 2) / df);
    seedSpread[m] = df > 0 ? studentTQuantile(0.975, df) * pooled : NaN;
  }
  const enough = METRICS.every((m) => Number.isFinite(difference[m].lower));
  const verdict = !enough ? 'too few seeds' : METRICS.every((m) => difference[m].containsZero) ? 'within seed noise' : 'systematic';
  return { a: groupName(a.side, a.init), b: groupName(b.side, b.init), difference, seedSpread, verdict };
}

/** vaekit − PyTorch at each init both have, then init pytorch − glorot on each side. */
export function parityComparisons(groups: readonly ParityGroup[]): ParityComparison[] {
  const find = (side: Side, init: Init) => groups.find((g) => g.side === side && g.init === init);
  const out: ParityComparison[] = [];
  for (const init of ['glorot', 'pytorch'] as const) {
    const v = find('vaekit', init);
    const p = find('pytorch', init);
    if (v && p) out.push(compareGroups(v, p));
  }
  for (const side of ['vaekit', 'pytorch'] as const) {
    const t = find(side, 'pytorch');
    const g = find(side, 'glorot');
    if (t && g) out.push(compareGroups(t, g));
  }
  return out;
}

const f2 = (v: number) => (Number.isFinite(v) ? (v < 0 ? `−${(-v).toFixed(2)}` : v.toFixed(2)) : '—');
const signed = (v: number) => (v > 0 ? `+${f2(v)}` : f2(v));

/** The parity report in Markdown: settings, one row per group, one row per comparison. */
export function formatParity(runs: readonly ParityRun[], command: string): string {
  const groups = parityGroups(runs);
  const s: ParitySettings | undefined = runs[0]?.settings;
  const lines: string[] = ['# vaekit vs PyTorch at the same budget', ''];
  if (s) {
    lines.push(
      `784-200-200-50 tanh, diagonal-Gaussian encoder, Bernoulli decoder; ${s.epochs} epochs of ${s.trainRows.toLocaleString('en-US')} dynamically binarised MNIST rows, ` +
        `Adam ${s.learningRate}, batch ${s.batchSize}; evaluated on the first ${s.testRows.toLocaleString('en-US')} test rows with one fixed binarisation ` +
        `(vaekit's static draw, seed 0; the same rows on both sides): ELBO averaged over ${s.elboSamples} draws per row, IWAE_${s.samples} = log p̂(x) with K = ${s.samples}. ` +
        `Nats per data point; mean ± sd over seeds.`,
      '',
      `\`${command}\``,
      '',
    );
  }
  lines.push(`| side · init | seeds | test ELBO | IWAE_${s?.samples ?? 'K'} | training s / seed | CPU s / seed |`, '|---|---|---:|---:|---:|---:|');
  for (const g of groups) {
    const cell = (m: Metric) => `${f2(g.summary[m].mean)} ± ${f2(g.summary[m].sd)}`;
    lines.push(`| ${groupName(g.side, g.init)} | ${g.seeds.join(', ')} | ${cell('elbo')} | ${cell('logLikelihood')} | ${g.trainSeconds.toFixed(0)} | ${g.cpuSeconds.toFixed(0)} |`);
  }
  const comparisons = parityComparisons(groups);
  if (comparisons.length) {
    lines.push('', '| difference | Δ test ELBO [95 % Welch] | seed-to-seed ± | Δ IWAE [95 % Welch] | seed-to-seed ± | verdict |', '|---|---:|---:|---:|---:|---|');
    for (const c of comparisons) {
      const d = (m: Metric) => `${signed(c.difference[m].mean)} [${signed(c.difference[m].lower)}, ${signed(c.difference[m].upper)}]`;
      lines.push(`| ${c.a} − ${c.b} | ${d('elbo')} | ${f2(c.seedSpread.elbo)} | ${d('logLikelihood')} | ${f2(c.seedSpread.logLikelihood)} | ${c.verdict} |`);
    }
    lines.push(
      '',
      'Δ: difference of means with Welch\'s 95 % t interval over seeds (the sides share no random stream). ' +
        'Seed-to-seed ±: t₀.₉₇₅ × the pooled sd across seeds, the range of one seed\'s result around its mean. ' +
        '"within seed noise": every interval contains 0.',
    );
  }
  return lines.join('\n') + '\n';
}
