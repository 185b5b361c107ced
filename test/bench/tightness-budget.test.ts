import { describe, expect, it } from 'vitest';
import { budgetRows, projectedHalfWidth, simulateWall } from '../../bench/tightness/budget.js';
import type { JobResult } from '../../bench/tightness/types.js';

function job(mode: 'frozen' | 'co-trained', name: string, seed: number, elbo: number[]): JobResult {
  return { id: `${mode}:${name}:${seed}`, mode, name, seed, perRow: { elbo, logLikelihood: elbo.map((e) => e + 5) } } as unknown as JobResult;
}

describe('tightness budget analysis', () => {
  it('takes the frozen Δ gap per seed as the row mean of ELBO_baseline − ELBO_encoder, with its seed sd and row SE', () => {
    const results = [
      job('frozen', 'gaussian', 1, [-100, -102]),
      job('frozen', 'planar', 1, [-98, -99]), // Δ gap per row −2, −3 → −2.5, row sd 0.707
      job('frozen', 'gaussian', 2, [-101, -101]),
      job('frozen', 'planar', 2, [-100, -99]), // −1, −2 → −1.5
      job('frozen', 'gaussian', 3, [-100, -100]),
      job('frozen', 'planar', 3, [-98, -98]), // −2, −2 → −2
      job('co-trained', 'planar', 1, [-50, -50]), // ignored
    ];
    const [r] = budgetRows(results, 'gaussian');
    expect(r!.name).toBe('planar');
    expect(r!.perSeed).toEqual([-2.5, -1.5, -2]);
    expect(r!.mean).toBeCloseTo(-2, 12);
    expect(r!.seedSd).toBeCloseTo(0.5, 12);
    // Row SE² per seed: 0.5/2, 0.5/2, 0 → RMS √(1/6).
    expect(r!.rowSe).toBeCloseTo(Math.sqrt(1 / 6), 12);
    // t₀.₉₇₅,₂ = 4.3027.
    expect(r!.halfWidth).toBeCloseTo(4.302653 * (0.5 / Math.sqrt(3)), 5);
    expect(r!.t).toBeCloseTo(-2 / (0.5 / Math.sqrt(3)), 9);
    expect(projectedHalfWidth(0.5, 6)).toBeCloseTo(2.570582 * (0.5 / Math.sqrt(6)), 5);
  });

  it('schedules jobs as the pool does: first ready job in list order, frozen jobs after their baseline', () => {
    // One worker: the sum.
    expect(simulateWall([{ id: 'a', seconds: 2 }, { id: 'b', seconds: 3, after: 'a' }], 1)).toBe(5);
    // Two workers: b waits for a (2 s), c runs beside a; then b from 2 to 5.
    expect(simulateWall([{ id: 'a', seconds: 2 }, { id: 'b', seconds: 3, after: 'a' }, { id: 'c', seconds: 1 }], 2)).toBe(5);
    // Two baselines first, then each frozen job after its own baseline: 4 + 4 on each worker.
    const jobs = [
      { id: 'g1', seconds: 4 },
      { id: 'g2', seconds: 4 },
      { id: 'f1', seconds: 4, after: 'g1' },
      { id: 'f2', seconds: 4, after: 'g2' },
    ];
    expect(simulateWall(jobs, 2)).toBe(8);
    expect(simulateWall(jobs, 1)).toBe(16);
    // Only dependents left and their baseline still running: the free worker waits for it.
    expect(simulateWall([{ id: 'g', seconds: 5 }, { id: 'f', seconds: 1, after: 'g' }, { id: 'h', seconds: 1, after: 'g' }], 2)).toBe(6);
    expect(() => simulateWall([{ id: 'f', seconds: 1, after: 'x' }], 2)).toThrow(/job f waits for a job that does not run before it/);
  });
});
