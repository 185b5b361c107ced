/**
 * Multimodal posteriors: how close can each encoder × objective get to the exact log p(x)?
 *
 * Models (src/data/quadrature-model.ts): 2-D latent, fixed decoder, exact log p(x) by quadrature —
 * two far-apart equal-mass modes, a ring, a banana, and two modes connected through the origin.
 * Only the encoder is trained (full batch, Adam), once per seed, with each objective through the
 * trainer (`train.objective` specs: elbo, iwae with reparam or DReG gradients, and the mixture
 * encoder's stratified bounds). Reported per model × encoder × objective, mean and 95 % Student-t
 * interval over seeds:
 *   gap      = log p(x) − ELBO   (exact log p(x); ELBO = mean log w over S draws of q)
 *   log p̂ error = log p̂(x) − log p(x)   (K importance samples with q as proposal)
 *   ESS and Pareto k̂ of those K weights (median over rows)
 * and a picture grid of q(z|x) beside p(z|x) for one row per model (seed 1), written to runs/multimodal/ (or --out).
 *
 *   npx tsx bench/multimodal.ts            # default: 4 models × 9 encoder · objective combos × 2 seeds, 800 steps (≈ 30 min on one wasm core); writes runs/multimodal/multimodal.{md,json,png}
 *   npx tsx bench/multimodal.ts --quick    # 2 models, 3 combos, 1 seed, 150 steps (a smoke run)
 *   npx tsx bench/multimodal.ts --seeds 5 --steps 3000 --models two-modes,ring --out /tmp/mm
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../src/backend/select-backend.js';
import { tf } from '../plugins/index.js';
import type { Dataset, PluginSpec, Vae } from '../plugins/index.js';
import { train } from '../src/train/trainer.js';
import { ImportanceDiagnosticsAccumulator } from '../src/eval/importance-diagnostics.js';
import { LogMeanExpAccumulator, streamLogWeights } from '../src/eval/log-likelihood.js';
import { posteriorGrid, type PosteriorGrid } from '../src/eval/posterior-grid.js';
import { studentTQuantile } from '../src/eval/seed-stats.js';
import { renderDensityPanels, type DensityPanel } from '../src/plot/posterior-plot.js';
import { createQuadratureVae, QUADRATURE_KINDS, quadratureDataset, quadratureLogPx, type QuadratureKind, type QuadratureModel } from '../plugins/index.js';

export interface BenchCase {
  model: QuadratureModel;
  /** Rows drawn from the model, kept where `keep(x)`. */
  keep: (x: number) => boolean;
  /** The x of the pictured row. */
  pictureX: number;
  /** Picture box. */
  box: [[number, number], [number, number]];
}

export const CASES: Record<QuadratureKind, BenchCase> = {
  // x ≥ 1: modes at z₁ = ±√x at least 2 apart, each ≈ σ/(2√x) ≤ 0.13 wide.
  'two-modes': { model: { kind: 'two-modes', sigma: 0.25 }, keep: (x) => x >= 1, pictureX: 2.5, box: [[-2.6, 2.6], [-3, 3]] },
  ring: { model: { kind: 'ring', sigma: 0.25 }, keep: (x) => x >= 0.5, pictureX: 2, box: [[-3, 3], [-3, 3]] },
  banana: { model: { kind: 'banana', sigma: 0.25 }, keep: () => true, pictureX: 0.2, box: [[-3, 3], [-3.5, 2]] },
  connected: { model: { kind: 'connected', sigma: 0.25 }, keep: () => true, pictureX: 0.3, box: [[-3, 3], [-3, 3]] },
};

export interface Combo {
  label: string;
  encoder: PluginSpec;
  objective: { type: string; [k: string]: unknown };
}

const HIDDEN = [32, 32];
export const COMBOS: Combo[] = [
  { label: 'gaussian · ELBO', encoder: { type: 'gaussian', hidden: HIDDEN }, objective: { type: 'elbo' } },
  { label: 'gaussian · IWAE_16', encoder: { type: 'gaussian', hidden: HIDDEN }, objective: { type: 'iwae', samples: 16 } },
  { label: 'gaussian · IWAE_16 DReG', encoder: { type: 'gaussian', hidden: HIDDEN }, objective: { type: 'iwae', samples: 16, gradient: 'dreg' } },
  { label: 'planar ×8 · ELBO', encoder: { type: 'planar', hidden: HIDDEN, steps: 8 }, objective: { type: 'elbo' } },
  { label: 'realnvp ×4 · ELBO', encoder: { type: 'realnvp', hidden: HIDDEN, couplings: 4 }, objective: { type: 'elbo' } },
  { label: 'mixture C=2 · ELBO', encoder: { type: 'mixture', hidden: HIDDEN, components: 2 }, objective: { type: 'elbo' } },
  { label: 'mixture C=2 · SIELBO_4', encoder: { type: 'mixture', hidden: HIDDEN, components: 2 }, objective: { type: 'stratified-elbo', samples: 4 } },
  { label: 'mixture C=4 · SIELBO_4', encoder: { type: 'mixture', hidden: HIDDEN, components: 4 }, objective: { type: 'stratified-elbo', samples: 4 } },
  { label: 'mixture C=2 · SIWAE_4', encoder: { type: 'mixture', hidden: HIDDEN, components: 2 }, objective: { type: 'stratified-iwae', samples: 4 } },
];

export interface BenchOptions {
  models: QuadratureKind[];
  combos: Combo[];
  seeds: number;
  steps: number;
  rows: number;
  learningRate: number;
  /** S = K of the evaluation (ELBO and log p̂). */
  evalSamples: number;
  out: string | null;
  log: (s: string) => void;
}

export interface RunResult {
  model: QuadratureKind;
  combo: string;
  seed: number;
  gap: number;
  logPHatError: number;
  essMedian: number;
  paretoKMedian: number;
  rowsKAbove: number;
  trainSeconds: number;
}

export interface CellSummary {
  model: QuadratureKind;
  combo: string;
  n: number;
  gap: { mean: number; half: number; values: number[] };
  logPHatError: { mean: number; half: number };
  essMedian: number;
  paretoKMedian: number;
  trainSeconds: number;
  error?: string;
}

function interval(values: number[]): { mean: number; half: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, half: NaN };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, half: (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n) };
}

const median = (a: number[]) => {
  const s = a.filter((v) => !Number.isNaN(v)).sort((x, y) => x - y);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : 0.5 * (s[m - 1]! + s[m]!);
};

/** Per row: ELBO (mean log w), log p̂ (log mean w), ESS, k̂ from K draws. */
async function evaluate(vae: Vae, data: Dataset, samples: number, seed: number): Promise<{ elbo: Float64Array; logPHat: Float64Array; ess: Float64Array; paretoK: Float64Array }> {
  vae.random.reseed(seed);
  const x = tf.tensor2d(data.x, [data.rows, 1]);
  const n = data.rows;
  const elbo = new Float64Array(n);
  const acc = new LogMeanExpAccumulator(n, samples);
  const diag = new ImportanceDiagnosticsAccumulator(n, samples);
  await streamLogWeights(vae, x, { samples, chunk: 500 }, (lw, c) => {
    acc.push(lw, c);
    diag.push(lw, c);
    for (let k = 0; k < c; k++) for (let i = 0; i < n; i++) elbo[i] = elbo[i]! + lw[k * n + i]! / samples;
  });
  x.dispose();
  return { elbo, logPHat: acc.value(), ess: diag.ess(), paretoK: diag.paretoK() };
}

export async function runBench(o: BenchOptions): Promise<{ results: RunResult[]; cells: CellSummary[]; markdown: string; png: Buffer | null }> {
  const results: RunResult[] = [];
  const cells: CellSummary[] = [];
  const pictures: { label: string; panels: DensityPanel[] }[] = [];
  for (const kind of o.models) {
    const bc = CASES[kind];
    const data = quadratureDataset(o.rows, bc.model, 11, bc.keep);
    const exact = Float64Array.from(data.x, (v) => quadratureLogPx(v, bc.model));
    const panels: DensityPanel[] = [];
    let truth: PosteriorGrid | null = null;
    for (const combo of o.combos) {
      const runs: RunResult[] = [];
      let error: string | undefined;
      for (let seed = 1; seed <= o.seeds; seed++) {
        const vae = createQuadratureVae(combo.encoder, { ...bc.model, seed });
        try {
          const t0 = performance.now();
          await train(vae, data, { epochs: o.steps, batchSize: data.rows, learningRate: o.learningRate, seed, freeze: ['likelihood', 'prior'], objective: combo.objective, quiet: true, progress: false });
          const trainSeconds = (performance.now() - t0) / 1000;
          const e = await evaluate(vae, data, o.evalSamples, 1000 + seed);
          let gap = 0;
          let err = 0;
          for (let i = 0; i < data.rows; i++) {
            gap += (exact[i]! - e.elbo[i]!) / data.rows;
            err += (e.logPHat[i]! - exact[i]!) / data.rows;
          }
          const r: RunResult = {
            model: kind,
            combo: combo.label,
            seed,
            gap,
            logPHatError: err,
            essMedian: median(Array.from(e.ess)),
            paretoKMedian: median(Array.from(e.paretoK)),
            rowsKAbove: Array.from(e.paretoK).filter((k) => k > 0.7).length,
            trainSeconds,
          };
          runs.push(r);
          o.log(`${kind} · ${combo.label} · seed ${seed}: gap ${gap.toFixed(3)}, log p̂ − log p ${err.toFixed(3)}, k̂ median ${r.paretoKMedian.toFixed(2)} (${trainSeconds.toFixed(1)} s)`);
          if (seed === 1) {
            const g = await posteriorGrid(vae, [bc.pictureX], { box: bc.box, size: 81, samples: o.evalSamples, overlaySamples: 150 });
            if (!truth) {
              truth = g;
              panels.push({ title: 'p(z|x) (grid)', logDensity: g.logPosterior, grid: g, caption: `x = ${bc.pictureX}, log p(x) ${g.gridLogPx.toFixed(2)}` });
            }
            panels.push({
              title: combo.label,
              logDensity: g.logQ,
              grid: g,
              samples: g.overlay,
              caption: `gap ${(g.gridLogPx - g.elbo).toFixed(2)}, k̂ ${g.paretoK.toFixed(2)}${g.qSource === 'kde' ? ' (KDE)' : ''}`,
            });
          }
        } catch (e) {
          error = (e as Error).message;
          o.log(`${kind} · ${combo.label} · seed ${seed}: ${error}`);
          break;
        } finally {
          vae.dispose();
        }
      }
      results.push(...runs);
      if (runs.length) {
        const gi = interval(runs.map((r) => r.gap));
        const ei = interval(runs.map((r) => r.logPHatError));
        cells.push({
          model: kind,
          combo: combo.label,
          n: runs.length,
          gap: { ...gi, values: runs.map((r) => r.gap) },
          logPHatError: ei,
          essMedian: median(runs.map((r) => r.essMedian)),
          paretoKMedian: median(runs.map((r) => r.paretoKMedian)),
          trainSeconds: runs.reduce((a, r) => a + r.trainSeconds, 0) / runs.length,
          ...(error ? { error } : {}),
        });
      } else {
        cells.push({ model: kind, combo: combo.label, n: 0, gap: { mean: NaN, half: NaN, values: [] }, logPHatError: { mean: NaN, half: NaN }, essMedian: NaN, paretoKMedian: NaN, trainSeconds: NaN, error: error ?? 'no runs' });
      }
    }
    if (panels.length) pictures.push({ label: `${kind} (σ = ${bc.model.sigma})`, panels });
  }
  const markdown = formatTable(cells, o);
  const png = pictures.length ? renderDensityPanels(pictures, { title: 'q(z|x) of each encoder × objective beside the true posterior (seed 1)' }) : null;
  if (o.out) {
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, 'multimodal.md'), `${markdown}\n`);
    writeFileSync(join(o.out, 'multimodal.json'), `${JSON.stringify({ options: { ...o, log: undefined, combos: o.combos }, cells, results }, null, 2)}\n`);
    if (png) writeFileSync(join(o.out, 'multimodal.png'), png);
  }
  return { results, cells, markdown, png };
}

export function formatTable(cells: CellSummary[], o: Pick<BenchOptions, 'seeds' | 'steps' | 'rows' | 'evalSamples' | 'learningRate'>): string {
  const f = (v: number, d = 2) => (!Number.isFinite(v) ? '—' : Math.abs(v) >= 1000 ? v.toExponential(1).replace('e+', 'e') : v.toFixed(d));
  const pm = (e: { mean: number; half: number }) => (Number.isFinite(e.half) ? `${f(e.mean)} ± ${f(e.half)}` : f(e.mean));
  const lines = [
    `Encoder-only training, ${o.steps} full-batch Adam steps (learning rate ${o.learningRate}) on ${o.rows} rows per model; ${o.seeds} seed${o.seeds === 1 ? '' : 's'} (mean ± 95 % t-interval over seeds); S = K = ${o.evalSamples} draws per row for the ELBO and log p̂(x). Nats per data point; exact log p(x) by quadrature; log 2 = 0.69.`,
    '',
    '| model | encoder · objective | gap log p(x) − ELBO | log p̂(x) − log p(x) | ESS (median) | k̂ (median) | gap per seed | s per run |',
    '|---|---|---:|---:|---:|---:|---|---:|',
  ];
  for (const c of cells) {
    if (c.n === 0) {
      lines.push(`| ${c.model} | ${c.combo} | n/a: ${c.error?.replace(/\|/g, '/')} | | | | | |`);
      continue;
    }
    lines.push(
      `| ${c.model} | ${c.combo} | ${pm(c.gap)} | ${pm(c.logPHatError)} | ${f(c.essMedian, 0)} | ${f(c.paretoKMedian)} | ${c.gap.values.map((v) => f(v)).join(', ')} | ${f(c.trainSeconds, 0)} |`,
    );
  }
  return lines.join('\n');
}

function parseArgs(argv: string[]): BenchOptions {
  const get = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const num = (name: string, dflt: number) => {
    const v = get(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number; got ${JSON.stringify(v)}`);
    return n;
  };
  const models = (get('--models')?.split(',') ?? (quick ? ['two-modes', 'ring'] : [...QUADRATURE_KINDS])) as QuadratureKind[];
  for (const m of models) if (!QUADRATURE_KINDS.includes(m)) throw new Error(`--models: expected names from ${QUADRATURE_KINDS.join(', ')}; got ${JSON.stringify(m)}`);
  const combos = quick ? [COMBOS[0]!, COMBOS[1]!, COMBOS[6]!] : COMBOS;
  return {
    models,
    combos,
    seeds: num('--seeds', quick ? 1 : 2),
    steps: num('--steps', quick ? 150 : 800),
    rows: num('--rows', 12),
    learningRate: num('--lr', 5e-3),
    evalSamples: num('--samples', quick ? 500 : 2000),
    out: argv.includes('--no-out') ? null : (get('--out') ?? join(import.meta.dirname, '..', 'runs', 'multimodal')),
    log: (s) => process.stderr.write(`${s}\n`),
  };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const o = parseArgs(process.argv.slice(2));
  await selectBackend(process.env.VAEKIT_BACKEND || 'wasm', { quiet: false });
  const t0 = performance.now();
  const { markdown } = await runBench(o);
  process.stdout.write(`${markdown}\n\n(${((performance.now() - t0) / 1000).toFixed(0)} s${o.out ? `; written to ${o.out}/multimodal.{md,json,png}` : ''})\n`);
}
