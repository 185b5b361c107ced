/**
 * Progress and ETA of a tightness run: the unit costs of a job (training steps, evaluation samples),
 * the share of a job a stage has reached, the run's fraction done and its formatted bar. Pure
 * functions and one small tracker; the StatusBoard draws the line.
 */
import type { Settings } from './types.js';

/** Seconds per 100-row training step, one worker: mean over the 24 jobs of a 3-seed, 3-epoch --quick run (wasm, 2 idle cores). */
export const STEP_SECONDS = 0.0199;
/** Evaluation seconds per (test row × sample), one worker, from the same run (amortisation steps counted as 3 samples each). */
export const EVAL_SECONDS_PER_ROW_SAMPLE = 3.35e-5;

/** Expected seconds of one job on one idle core, by stage. */
export interface JobCost {
  train: number;
  bounds: number;
  amortization: number;
}

/**
 * train = ⌈rows / batch⌉ × epochs × STEP_SECONDS;
 * bounds = test rows × (K_ll + Σ IWAE K + ELBO samples) × EVAL_SECONDS_PER_ROW_SAMPLE;
 * amortization = min(amortRows, test rows) × amortSteps × amortSamples × 3 × EVAL_SECONDS_PER_ROW_SAMPLE.
 */
export function jobCost(s: Settings): JobCost {
  const steps = Math.ceil(s.trainRows / s.batchSize) * s.epochs;
  return {
    train: steps * STEP_SECONDS,
    bounds: s.testRows * (s.llSamples + s.iwaeSamples.reduce((a, k) => a + k, 0) + s.elboSamples) * EVAL_SECONDS_PER_ROW_SAMPLE,
    amortization: Math.min(s.amortRows, s.testRows) * s.amortSteps * s.amortSamples * 3 * EVAL_SECONDS_PER_ROW_SAMPLE,
  };
}

export const totalCost = (c: JobCost): number => c.train + c.bounds + c.amortization;

/** Where a job is: training (epochs finished of all), evaluating bounds (rows done), the amortisation gap, or done. */
export type JobStage =
  | { stage: 'train'; epochsDone: number; epochs: number }
  | { stage: 'bounds'; rowsDone: number; rows: number }
  | { stage: 'amortization' }
  | { stage: 'done' };

/** The fraction of a job's expected cost behind it at `at`, in [0, 1]. */
export function jobFraction(c: JobCost, at: JobStage): number {
  const t = totalCost(c);
  if (!(t > 0)) return at.stage === 'done' ? 1 : 0;
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  switch (at.stage) {
    case 'train':
      return clamp((c.train * clamp(at.epochsDone / Math.max(1, at.epochs))) / t);
    case 'bounds':
      return clamp((c.train + c.bounds * clamp(at.rowsDone / Math.max(1, at.rows))) / t);
    case 'amortization':
      return clamp((c.train + c.bounds) / t);
    case 'done':
      return 1;
  }
}

/**
 * The run's fraction done: the mean of its jobs' fractions (every job of a run has the same
 * settings, so the same expected cost), and the ETA extrapolated from the rate so far:
 * remaining = elapsed × (1 − f) / f.
 */
export class RunProgress {
  private readonly fractions = new Map<string, number>();

  constructor(private readonly jobs: number) {}

  /** Job `id` has reached `fraction` of its work (never moves back). */
  set(id: string, fraction: number): void {
    this.fractions.set(id, Math.max(this.fractions.get(id) ?? 0, Math.min(1, Math.max(0, fraction))));
  }

  fraction(): number {
    if (this.jobs <= 0) return 1;
    let s = 0;
    for (const f of this.fractions.values()) s += f;
    return Math.min(1, s / this.jobs);
  }

  /** Seconds left, or null before any progress. */
  remainingSeconds(elapsedSeconds: number): number | null {
    const f = this.fraction();
    if (f <= 0) return null;
    return (elapsedSeconds * (1 - f)) / f;
  }
}

/** 75 → "1:15", 3725 → "1:02:05". */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** `[██████░░░░░░] 50%  3/8 jobs  1:15 elapsed  ETA 1:15`, the bar `width` cells wide. */
export function formatProgressLine(fraction: number, jobsDone: number, jobs: number, elapsedSeconds: number, remainingSeconds: number | null, width = 24): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.floor(f * width);
  const bar = '█'.repeat(full) + '░'.repeat(width - full);
  const eta = remainingSeconds === null ? 'ETA —' : `ETA ${formatClock(remainingSeconds)}`;
  return `[${bar}] ${Math.floor(f * 100)}%  ${jobsDone}/${jobs} jobs  ${formatClock(elapsedSeconds)} elapsed  ${eta}`;
}
