/**
 * Aggregation of per-seed job results into the tightness tables (co-trained and frozen-decoder),
 * their Markdown and the JSON record. Pure functions: no tensors, no files.
 */
import type { ImportanceDiagnostics } from '../../src/eval/importance-diagnostics.js';
import { LOG_P_HAT_NOTE } from '../../src/eval/bound-report.js';
import {
  differencesFromBaseline,
  summarizeSeeds,
  type DifferenceMethod,
  type SeedDifference,
  type SeedSummary,
} from '../../src/eval/seed-stats.js';
import type { Combo, JobResult, Settings } from './types.js';

/** Columns of a table, in order; `logLikelihood` is the model's own in the co-trained table. */
export const CO_TRAINED_COLUMNS = ['secondsPerEpoch', 'elbo', 'iwae', 'logLikelihood', 'gap', 'amortizationGap'] as const;
export const FROZEN_COLUMNS = ['secondsPerEpoch', 'elbo', 'iwae', 'gap', 'amortizationGap'] as const;
export type Column = (typeof CO_TRAINED_COLUMNS)[number] | 'ownLogLikelihood';

/** One seed of one model, the values the tables show (nats per data point; seconds). */
export interface SeedRow {
  seed: number;
  secondsPerEpoch: number;
  elbo: number;
  /** IWAE at the table's K. */
  iwae: number;
  /** log p̂(x): the model's own (co-trained) or the shared one (frozen). */
  logLikelihood: number;
  /** Frozen: this encoder's own log p̂(x) as proposal. */
  ownLogLikelihood?: number;
  gap: number;
  amortizationGap: number;
  /** Standard errors across test rows of this seed's estimates. */
  stdErr: { elbo: number; iwae: number; logLikelihood: number; gap: number; amortizationGap: number };
  /** IWAE_K for every K evaluated. */
  iwaeByK: { samples: number; mean: number; stdErr: number }[];
  klExact: boolean;
  trainSeconds: number;
  evalSeconds: number;
  finalTrainBound: number;
  amortizationRows: number;
  /** ESS and PSIS k̂ of this model's own log p̂(x) weights, summarised over test rows. */
  diagnostics?: ImportanceDiagnostics;
  frozenUnchanged?: boolean;
}

export interface ModelRow {
  name: string;
  encoder: Combo['model']['encoder'];
  parameters: { encoder: number; decoder: number; prior: number; total: number } | null;
  seeds: SeedRow[];
  summary: Partial<Record<Column, SeedSummary>>;
  errors: { seed: number; message: string }[];
}

export interface TableRecord {
  kind: 'co-trained' | 'frozen';
  /** How the differences from the baseline were formed. */
  method: DifferenceMethod;
  baseline: string;
  models: ModelRow[];
  differences: Record<string, Partial<Record<Column, SeedDifference>>>;
  /** Frozen: the shared log p̂(x) per seed (per-row max over the encoders' estimates, averaged over rows). */
  sharedLogLikelihood?: { perSeed: { seed: number; mean: number; stdErr: number; source: string }[]; summary: SeedSummary };
}

function meanStdErr(v: readonly number[]): { mean: number; stdErr: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, stdErr: n > 1 ? sd / Math.sqrt(n) : 0 };
}

function iwaeAt(r: JobResult, k: number): { mean: number; stdErr: number } {
  const e = r.iwae.find((i) => i.samples === k) ?? r.iwae[r.iwae.length - 1]!;
  return { mean: e.mean, stdErr: e.stdErr };
}

function seedRow(r: JobResult, k: number, shared?: { perRow: number[] }): SeedRow {
  const iw = iwaeAt(r, k);
  let ll = r.logLikelihood;
  let gap = r.gap;
  if (shared) {
    ll = meanStdErr(shared.perRow);
    gap = meanStdErr(shared.perRow.map((v, i) => v - r.perRow.elbo[i]!));
  }
  const row: SeedRow = {
    seed: r.seed,
    secondsPerEpoch: r.secondsPerEpoch,
    elbo: r.elbo.mean,
    iwae: iw.mean,
    logLikelihood: ll.mean,
    gap: gap.mean,
    amortizationGap: r.amortization.amortizationGap.mean,
    stdErr: { elbo: r.elbo.stdErr, iwae: iw.stdErr, logLikelihood: ll.stdErr, gap: gap.stdErr, amortizationGap: r.amortization.amortizationGap.stdErr },
    iwaeByK: r.iwae,
    klExact: r.klExact,
    trainSeconds: r.trainSeconds,
    evalSeconds: r.evalSeconds,
    finalTrainBound: r.finalTrainBound,
    amortizationRows: r.amortization.rows,
  };
  if (r.diagnostics) row.diagnostics = r.diagnostics;
  if (shared) row.ownLogLikelihood = r.logLikelihood.mean;
  if (r.frozenUnchanged !== undefined) row.frozenUnchanged = r.frozenUnchanged;
  return row;
}

/**
 * The shared log p̂(x) of one frozen decoder, per test row: the largest of the encoders' own
 * estimates (each log p̂ is a stochastic lower bound of the same log p(x), so the largest is the
 * tightest available; it can exceed log p(x) only by estimator noise).
 */
export function sharedLogLikelihood(results: readonly JobResult[]): number[] {
  if (results.length === 0) return [];
  const n = results[0]!.perRow.logLikelihood.length;
  const out = new Array<number>(n).fill(-Infinity);
  for (const r of results) {
    if (r.perRow.logLikelihood.length !== n) throw new Error(`shared log p̂(x): ${r.name} has ${r.perRow.logLikelihood.length} test rows; expected ${n}`);
    r.perRow.logLikelihood.forEach((v, i) => {
      if (v > out[i]!) out[i] = v;
    });
  }
  return out;
}

/**
 * Builds one table from results keyed by (model name, seed). Co-trained: each model's own
 * log p̂(x) and gap; differences Welch (independent models). Frozen: the shared log p̂(x) of each
 * seed's decoder and gap = shared − ELBO; differences paired by seed (same decoder per seed).
 */
export function buildTable(
  kind: 'co-trained' | 'frozen',
  combos: readonly Combo[],
  seeds: readonly number[],
  results: ReadonlyMap<string, JobResult>,
  errors: ReadonlyMap<string, string>,
  jobId: (kind: 'co-trained' | 'frozen', name: string, seed: number) => string,
  settings: Pick<Settings, 'k'>,
  baseline: string,
  frozenSource?: (seed: number) => string,
): TableRecord {
  const shared = new Map<number, number[]>();
  if (kind === 'frozen') {
    for (const s of seeds) {
      const rs = combos.map((c) => results.get(jobId('frozen', c.name, s))).filter((r): r is JobResult => r !== undefined);
      if (rs.length) shared.set(s, sharedLogLikelihood(rs));
    }
  }
  const models: ModelRow[] = combos.map((c) => {
    const rows: SeedRow[] = [];
    const errs: ModelRow['errors'] = [];
    let parameters: ModelRow['parameters'] = null;
    for (const s of seeds) {
      const id = jobId(kind, c.name, s);
      const r = results.get(id);
      if (!r) {
        errs.push({ seed: s, message: errors.get(id) ?? 'no result' });
        continue;
      }
      parameters ??= r.parameters;
      rows.push(seedRow(r, settings.k, kind === 'frozen' ? { perRow: shared.get(s)! } : undefined));
    }
    const cols: Column[] = kind === 'frozen' ? [...FROZEN_COLUMNS, 'logLikelihood', 'ownLogLikelihood'] : [...CO_TRAINED_COLUMNS];
    const summary: ModelRow['summary'] = {};
    if (rows.length) for (const col of cols) summary[col] = summarizeSeeds(rows.map((r) => r[col as keyof SeedRow] as number));
    return { name: c.name, encoder: c.model.encoder, parameters, seeds: rows, summary, errors: errs };
  });

  const method: DifferenceMethod = kind === 'frozen' ? 'paired' : 'welch';
  // Paired differences need the same seeds on both sides: keep seeds every compared model has.
  const base = models.find((m) => m.name === baseline);
  const differences: TableRecord['differences'] = {};
  if (base && base.seeds.length) {
    const diffCols: Column[] = kind === 'frozen' ? ['elbo', 'iwae', 'gap', 'amortizationGap'] : ['elbo', 'iwae', 'logLikelihood', 'gap', 'amortizationGap'];
    for (const m of models) {
      if (m.name === baseline || !m.seeds.length) continue;
      const common = method === 'paired' ? m.seeds.map((r) => r.seed).filter((s) => base.seeds.some((b) => b.seed === s)) : null;
      const pick = (rows: SeedRow[], col: Column) =>
        rows.filter((r) => !common || common.includes(r.seed)).map((r) => r[col as keyof SeedRow] as number);
      const values: Record<string, Record<string, number[]>> = { [baseline]: {}, [m.name]: {} };
      for (const col of diffCols) {
        values[baseline]![col] = pick(base.seeds, col);
        values[m.name]![col] = pick(m.seeds, col);
      }
      differences[m.name] = differencesFromBaseline(values, baseline, method)[m.name]!;
    }
  }
  const table: TableRecord = { kind, method, baseline, models, differences };
  if (kind === 'frozen') {
    const perSeed = seeds
      .filter((s) => shared.has(s))
      .map((s) => ({ seed: s, ...meanStdErr(shared.get(s)!), source: frozenSource?.(s) ?? '' }));
    table.sharedLogLikelihood = { perSeed, summary: summarizeSeeds(perSeed.map((p) => p.mean)) };
  }
  return table;
}

const num = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d).replace('-', '−') : v === -Infinity ? '−∞' : String(v));
const signed = (v: number, d = 2): string => (Number.isFinite(v) ? (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(d) : String(v));

/** `mean ± sd` across seeds, or `mean ± s.e.` across rows for a single seed. */
function cell(m: ModelRow, col: Column, d = 2): string {
  const s = m.summary[col];
  if (!s || s.n === 0) return '—';
  if (s.n > 1) return `${num(s.mean, d)} ± ${num(s.sd, d)}`;
  if (col === 'secondsPerEpoch') return num(s.mean, 1);
  const se = m.seeds[0]!.stdErr[col as keyof SeedRow['stdErr']];
  return se === undefined ? num(s.mean, d) : `${num(s.mean, d)} (±${num(se, 2)})`;
}

function diffCell(d: SeedDifference | undefined): string {
  if (!d) return '—';
  if (!Number.isFinite(d.lower)) return `${signed(d.mean)} (one seed: no interval)`;
  return `${signed(d.mean)} [${signed(d.lower)}, ${signed(d.upper)}]${d.containsZero ? ' ○' : ''}`;
}

export interface RunInfo {
  settings: Settings;
  seeds: number[];
  workers: number;
  backend: string;
  wallSeconds: number;
  dataLabel: string;
  command: string;
  /** Published results printed after the tables, each with its source and budget. */
  references?: string[];
}

/** The budget and settings line every table carries (issue 8: comparable without the command line). */
export function settingsLines(info: RunInfo, kind: 'co-trained' | 'frozen'): string[] {
  const s = info.settings;
  const wall = info.wallSeconds >= 120 ? `${(info.wallSeconds / 60).toFixed(1)} min` : `${info.wallSeconds.toFixed(0)} s`;
  return [
    `- Budget (every model): ${s.epochs} epoch${s.epochs === 1 ? '' : 's'} over the first ${s.trainRows} ${info.dataLabel} training rows, ` +
      `dynamic binarisation (a fresh Bernoulli draw per batch), batch ${s.batchSize}, Adam lr ${s.schedule && s.schedule.length > 1 ? `schedule ${s.schedule.map((p) => `${p.epochs}×${Number(p.learningRate.toPrecision(3))}`).join(', ')} (epochs × lr)` : s.learningRate}, objective ${s.objective.type.toUpperCase()} with K=${s.objective.samples}` +
      (kind === 'frozen' ? '; only the encoder trains (decoder and prior frozen, byte-identical after training).' : '; encoder, decoder and prior trained together.'),
    `- Evaluation: the first ${s.testRows} ${info.dataLabel} test rows, binarised once (static, seed ${s.testBinarizeSeed}); ` +
      `ELBO with S=${s.elboSamples} sample${s.elboSamples === 1 ? '' : 's'} per row; IWAE_${s.k}; log p̂(x) with K=${s.llSamples}; ` +
      `amortisation gap on the first ${Math.min(s.amortRows, s.testRows)} rows (λ optimised per row: ${s.amortSteps} Adam step${s.amortSteps === 1 ? '' : 's'}, lr ${s.amortLearningRate}, ${s.amortSamples} samples per step).`,
    `- Seeds: ${info.seeds.join(', ')} (${info.seeds.length}); backend ${info.backend}; ${info.workers} worker process${info.workers === 1 ? '' : 'es'}; wall time of the whole run ${wall}.`,
  ];
}

/** The Markdown of one table: settings, the table, the differences from the baseline, notes. */
export function formatTable(t: TableRecord, info: RunInfo): string {
  const s = info.settings;
  const many = info.seeds.length > 1;
  const lines: string[] = [];
  const savedSource = t.sharedLogLikelihood?.perSeed.find((p) => p.source.startsWith('saved model'))?.source;
  const title =
    t.kind === 'co-trained'
      ? 'Co-trained: each encoder trained with its own decoder'
      : `Frozen decoder: every encoder trained against ${savedSource ? `the decoder and prior of the ${savedSource}` : `the ${t.baseline} model's decoder and prior`}`;
  lines.push(`### ${title}`, '');
  lines.push(...settingsLines(info, t.kind));
  if (t.kind === 'frozen' && t.sharedLogLikelihood) {
    const sh = t.sharedLogLikelihood;
    const value = sh.summary.n > 1 ? `${num(sh.summary.mean)} ± ${num(sh.summary.sd)} (mean ± sd over ${sh.summary.n} seeds, one decoder per seed)` : `${num(sh.summary.mean)} (±${num(sh.perSeed[0]?.stdErr ?? NaN)} s.e. over rows)`;
    lines.push(
      `- Shared log p̂(x) = ${value}: per test row, the largest of the encoders' own importance-sampled estimates (K=${s.llSamples}) under the one frozen p(x, z); every gap below is this minus the encoder's ELBO.`,
    );
    const src = [...new Set(sh.perSeed.map((p) => p.source))].filter(Boolean);
    if (src.length) lines.push(`- Frozen decoder and prior: ${src.join('; ')}.`);
  }
  lines.push('');
  const spread = many ? 'mean ± sd across seeds' : 'one seed; (± s.e. across test rows)';
  lines.push(`Nats per data point; ${spread}. Higher bounds are better; a smaller gap is a tighter bound.`, '');
  const head =
    t.kind === 'co-trained'
      ? ['encoder', 'encoder params', 's / epoch', 'test ELBO', `IWAE_${s.k}`, `log p̂(x)`, 'gap log p̂ − ELBO', 'amortisation gap']
      : ['encoder', 'encoder params', 's / epoch', 'test ELBO', `IWAE_${s.k}`, 'gap (shared log p̂ − ELBO)', 'amortisation gap'];
  lines.push(`| ${head.join(' | ')} |`, `|---|${head.slice(1).map(() => '---:').join('|')}|`);
  const cols: Column[] = t.kind === 'co-trained' ? [...CO_TRAINED_COLUMNS] : [...FROZEN_COLUMNS];
  for (const m of t.models) {
    const params = m.parameters ? m.parameters.encoder.toLocaleString('en-US') : '—';
    if (!m.seeds.length) {
      lines.push(`| ${m.name} | ${params} | ${cols.map(() => 'failed').join(' | ')} |`);
      continue;
    }
    lines.push(`| ${m.name} | ${params} | ${cols.map((c) => cell(m, c, c === 'secondsPerEpoch' ? 1 : 2)).join(' | ')} |`);
  }
  const failed = t.models.flatMap((m) => m.errors.map((e) => `${m.name} seed ${e.seed}: ${e.message.split('\n')[0]}`));
  if (failed.length) lines.push('', `Failed runs (left out): ${failed.join('; ')}.`);

  const diffNames = Object.keys(t.differences);
  if (diffNames.length) {
    const dcols: Column[] = t.kind === 'frozen' ? ['elbo', 'iwae', 'gap', 'amortizationGap'] : ['elbo', 'iwae', 'logLikelihood', 'gap', 'amortizationGap'];
    const labels: Record<string, string> = { elbo: 'Δ ELBO', iwae: `Δ IWAE_${s.k}`, logLikelihood: 'Δ log p̂(x)', gap: 'Δ gap', amortizationGap: 'Δ amortisation gap' };
    const how =
      t.method === 'paired'
        ? `paired by seed (the encoders of one seed share its frozen decoder and its data order), Student t with n − 1 degrees of freedom`
        : `Welch's two-sample t (co-trained models share no weights; Welch–Satterthwaite degrees of freedom)`;
    lines.push('', `Difference from ${t.baseline} (encoder − ${t.baseline}), mean [95 % interval]: ${how}. ○ marks an interval containing 0 (not distinguishable from ${t.baseline} with these seeds).`, '');
    lines.push(`| encoder | ${dcols.map((c) => labels[c]).join(' | ')} |`, `|---|${dcols.map(() => '---:').join('|')}|`);
    for (const n of diffNames) lines.push(`| ${n} | ${dcols.map((c) => diffCell(t.differences[n]![c])).join(' | ')} |`);
  }
  return lines.join('\n');
}

const interval = (d: SeedDifference) => `${signed(d.mean)} nats [${signed(d.lower)}, ${signed(d.upper)}]`;
const verdict = (d: SeedDifference): 'below' | 'above' | 'unclear' => (!Number.isFinite(d.lower) || d.containsZero ? 'unclear' : d.upper < 0 ? 'below' : 'above');

/**
 * The answer in words, generated from the tables: for each encoder, its frozen-decoder Δ gap
 * (encoder − baseline, same p(x, z)) with its interval and the share of the baseline's gap it closes,
 * then whether the co-trained Δ gap agrees (co-training lets the decoder adapt to the encoder).
 * An encoder "tightens" the bound only when the whole 95 % interval lies below zero.
 */
export function answerParagraph(tables: readonly TableRecord[]): string {
  const frozen = tables.find((t) => t.kind === 'frozen');
  const co = tables.find((t) => t.kind === 'co-trained');
  const main = frozen ?? co;
  if (!main) return '';
  const base = main.baseline;
  const baseGap = main.models.find((m) => m.name === base)?.summary.gap;
  const names = Object.keys(main.differences).filter((n) => main.differences[n]!.gap);
  if (!names.length) return `Answer: no encoder besides ${base} has a gap difference to report.`;
  const against = frozen ? `against the same p(x, z) (${base}'s frozen decoder and prior, per seed)` : `(co-trained only: each model has its own p(x, z), so these are not differences of the family alone)`;
  const parts: string[] = [];
  for (const n of names) {
    const d = main.differences[n]!.gap!;
    const v = verdict(d);
    const share = baseGap && baseGap.mean > 0 ? ` (${Math.round((-100 * d.mean) / baseGap.mean)} % of ${base}'s gap of ${num(baseGap.mean)} nats)` : '';
    let text =
      v === 'below'
        ? `${n} tightens the bound: Δ gap ${interval(d)}${share}`
        : v === 'above'
          ? `${n} loosens it: Δ gap ${interval(d)}`
          : `${n} cannot be told apart from ${base}: Δ gap ${interval(d)}, an interval containing zero`;
    if (frozen && co?.differences[n]?.gap) {
      const c = co.differences[n]!.gap!;
      const cv = verdict(c);
      text += cv === v ? `; co-trained the verdict is the same (Δ gap ${interval(c)})` : `; co-trained it differs (Δ gap ${interval(c)}${cv === 'unclear' ? ', containing zero' : ''})`;
    }
    parts.push(text);
  }
  const seeds = main.models.find((m) => m.name === base)?.seeds.length ?? 0;
  return (
    `Answer (95 % intervals over ${seeds} seed${seeds === 1 ? '' : 's'}: seeds are the unit, so they cover training randomness — initialisation, data order, binarisation — on these fixed test rows), ${against}: ` +
    parts.join('. ') +
    '.'
  );
}

/** The whole Markdown report. */
export function formatReport(tables: readonly TableRecord[], info: RunInfo): string {
  const out = [
    `## Tightness benchmark (${info.dataLabel})`,
    '',
    '`' + info.command + '`',
    '',
    'gap = log p̂(x) − ELBO, the estimate of KL(q(z|x) ‖ p(z|x)); amortisation gap = ELBO of λ optimised per test row − ELBO of the encoder’s λ(x) ' +
      '(Cremer, Li & Duvenaud 2018); IWAE_K from Burda et al. 2015. ' +
      LOG_P_HAT_NOTE,
  ];
  for (const t of tables) out.push('', formatTable(t, info));
  const answer = answerParagraph(tables);
  if (answer) out.push('', answer);
  if (info.references?.length) {
    out.push('', '### Published reference (not run here; compare with the Gaussian row)', '', ...info.references.map((r) => `- ${r}`));
  }
  if (tables.some((t) => t.kind === 'frozen')) {
    out.push(
      '',
      'How to read the two tables: co-trained, each decoder adapts its posterior p(z|x) to its own encoder\'s family, so gaps compare different models and log p̂(x) says which model is better. ' +
        'With the decoder frozen, every encoder approximates the same posterior under the same log p(x): the gap differences are differences of the variational family (plus amortisation) alone.',
    );
  }
  return out.join('\n') + '\n';
}
