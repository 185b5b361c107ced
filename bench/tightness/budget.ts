/**
 * Where a tightness run's uncertainty comes from, for choosing a budget: per frozen-decoder
 * encoder, the per-seed Δ gap d_s = mean over test rows r of (gap_e,r − gap_b,r) = mean_r(ELBO_b,r −
 * ELBO_e,r) (the shared log p̂(x) cancels), its seed-to-seed sd, and the test-row standard error
 * within a seed, SE_s = sd_r(ELBO_b,r − ELBO_e,r)/√m (paired by row). The paired 95 % interval over
 * seeds has half-width t₀.₉₇₅,ₙ₋₁·sd/√n; SE² / sd² says how much of the seed-to-seed variance
 * the finite test rows (and the evaluation's Monte Carlo noise) explain — more test rows can
 * remove only that part, more seeds shrink the whole interval. Pure functions.
 */
import { studentTQuantile, summarizeSeeds } from '../../src/eval/seed-stats.js';
import type { JobResult } from './types.js';

export interface BudgetRow {
  name: string;
  seeds: number[];
  /** Per-seed Δ gap (encoder − baseline, frozen decoder), nats. */
  perSeed: number[];
  mean: number;
  /** Seed-to-seed sd of the per-seed Δ gap. */
  seedSd: number;
  /** Root mean square over seeds of the within-seed test-row standard error. */
  rowSe: number;
  /** Paired 95 % half-width with the seeds at hand. */
  halfWidth: number;
  /** mean / (sd/√n): the paired t statistic. */
  t: number;
}

/** The budget rows of every frozen encoder against `baseline`, from one run's job results. */
export function budgetRows(results: readonly JobResult[], baseline: string): BudgetRow[] {
  const frozen = results.filter((r) => r.mode === 'frozen');
  const base = new Map(frozen.filter((r) => r.name === baseline).map((r) => [r.seed, r]));
  const names = [...new Set(frozen.map((r) => r.name))].filter((n) => n !== baseline);
  return names.map((name) => {
    const rows = frozen.filter((r) => r.name === name && base.has(r.seed)).sort((a, b) => a.seed - b.seed);
    const perSeed: number[] = [];
    const se2: number[] = [];
    for (const r of rows) {
      const b = base.get(r.seed)!.perRow.elbo;
      const d = r.perRow.elbo.map((e, i) => b[i]! - e);
      const m = d.length;
      const mean = d.reduce((a, v) => a + v, 0) / m;
      const variance = d.reduce((a, v) => a + (v - mean) ** 2, 0) / (m - 1);
      perSeed.push(mean);
      se2.push(variance / m);
    }
    const s = summarizeSeeds(perSeed);
    const n = s.n;
    const halfWidth = n >= 2 ? studentTQuantile(0.975, n - 1) * (s.sd / Math.sqrt(n)) : NaN;
    return {
      name,
      seeds: rows.map((r) => r.seed),
      perSeed,
      mean: s.mean,
      seedSd: s.sd,
      rowSe: Math.sqrt(se2.reduce((a, v) => a + v, 0) / Math.max(1, se2.length)),
      halfWidth,
      t: n >= 2 ? s.mean / (s.sd / Math.sqrt(n)) : NaN,
    };
  });
}

/** The paired 95 % half-width t₀.₉₇₅,ₙ₋₁ · sd/√n that `seeds` seeds would give at seed-to-seed sd `sd`. */
export function projectedHalfWidth(sd: number, seeds: number): number {
  return seeds >= 2 ? studentTQuantile(0.975, seeds - 1) * (sd / Math.sqrt(seeds)) : NaN;
}

/** A job of the pool's list, its duration and the job it waits for. */
export interface SimJob {
  id: string;
  seconds: number;
  after?: string;
}

/**
 * The wall time of `jobs` on `workers` workers scheduled as the bench's pool does: whenever a
 * worker is free it takes the first job in list order whose dependency has finished (waiting
 * for one when none is ready). With durations measured as CPU seconds this is the run's wall
 * time on otherwise idle cores, worker start-up aside.
 */
export function simulateWall(jobs: readonly SimJob[], workers: number): number {
  const pending = [...jobs];
  const finish = new Map<string, number>();
  const free = Array.from({ length: Math.max(1, workers) }, () => 0);
  let end = 0;
  while (pending.length) {
    const w = free.indexOf(Math.min(...free));
    const now = free[w]!;
    const readyAt = pending.map((j) => (j.after === undefined ? now : Math.max(now, finish.get(j.after) ?? Infinity)));
    const start = Math.min(...readyAt);
    if (!Number.isFinite(start)) throw new Error(`simulateWall: job ${pending[0]!.id} waits for a job that does not run before it`);
    // The pool takes the first job in list order among those ready at that time.
    const idx = readyAt.findIndex((t) => t <= start);
    const [j] = pending.splice(idx, 1);
    const done = start + j!.seconds;
    finish.set(j!.id, done);
    free[w] = done;
    end = Math.max(end, done);
  }
  return end;
}
