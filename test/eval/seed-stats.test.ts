import { describe, expect, it } from 'vitest';
import {
  differencesFromBaseline,
  incompleteBeta,
  pairedDifference,
  studentTCdf,
  studentTQuantile,
  summarizeSeeds,
  welchDifference,
} from '../../src/eval/seed-stats.js';

describe('seed statistics', () => {
  it('summarises per-seed values with the sample standard deviation (n − 1)', () => {
    const s = summarizeSeeds([-90.1, -91.3, -89.8, -90.6]);
    const mean = (-90.1 - 91.3 - 89.8 - 90.6) / 4;
    const sd = Math.sqrt([-90.1, -91.3, -89.8, -90.6].reduce((a, v) => a + (v - mean) ** 2, 0) / 3);
    expect(s.n).toBe(4);
    expect(s.mean).toBeCloseTo(mean, 12);
    expect(s.sd).toBeCloseTo(sd, 12);
    expect(s.values).toEqual([-90.1, -91.3, -89.8, -90.6]);
    expect(summarizeSeeds([3]).sd).toBe(0);
    expect(Number.isNaN(summarizeSeeds([]).mean)).toBe(true);
  });

  it('matches printed Student-t quantiles t(0.975, df) to 1e-6', () => {
    // Standard t table (e.g. NIST/SEMATECH e-Handbook, Table 1.3.6.7.2).
    const table: [number, number][] = [
      [1, 12.706205],
      [2, 4.302653],
      [3, 3.182446],
      [4, 2.776445],
      [10, 2.228139],
      [30, 2.042272],
    ];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 5);
    expect(studentTQuantile(0.95, 5)).toBeCloseTo(2.015048, 5);
    expect(studentTQuantile(0.025, 2)).toBeCloseTo(-4.302653, 5);
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959966, 4);
  });

  it('inverts its own CDF for fractional degrees of freedom', () => {
    for (const df of [1.5, 4.959, 17.3]) {
      for (const p of [0.6, 0.9, 0.975, 0.999]) expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 10);
    }
    // I_x(1, 1) = x and I_x(a, b) = 1 − I_{1−x}(b, a).
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(incompleteBeta(0.2, 2.5, 0.5) + incompleteBeta(0.8, 0.5, 2.5)).toBeCloseTo(1, 12);
  });

  it('computes the paired-by-seed interval as mean(d) ± t(0.975, n−1)·sd(d)/√n', () => {
    const a = [1, 2, 4];
    const b = [0.5, 1.5, 2.5];
    const d = [0.5, 0.5, 1.5];
    const m = 2.5 / 3;
    const sd = Math.sqrt(d.reduce((s, v) => s + (v - m) ** 2, 0) / 2);
    const half = 4.302653 * (sd / Math.sqrt(3));
    const r = pairedDifference(a, b);
    expect(r.method).toBe('paired');
    expect(r.df).toBe(2);
    expect(r.mean).toBeCloseTo(m, 12);
    expect(r.stdErr).toBeCloseTo(sd / Math.sqrt(3), 12);
    expect(r.lower).toBeCloseTo(m - half, 5);
    expect(r.upper).toBeCloseTo(m + half, 5);
    expect(r.containsZero).toBe(true);
    // A consistent shift is told apart from zero.
    const shifted = pairedDifference([5.1, 6.0, 7.2], [1.0, 2.1, 3.0]);
    expect(shifted.containsZero).toBe(false);
    expect(shifted.lower).toBeGreaterThan(0);
    expect(() => pairedDifference([1, 2], [1, 2, 3])).toThrow(/same seeds/);
  });

  it("computes Welch's interval with the Welch–Satterthwaite degrees of freedom", () => {
    const a = [10, 11, 12];
    const b = [1, 2, 3, 4];
    const va = 1 / 3; // s_a² = 1, n_a = 3
    const vb = (5 / 3) / 4; // s_b² = 5/3, n_b = 4
    const se = Math.sqrt(va + vb);
    const df = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 3);
    const r = welchDifference(a, b);
    expect(r.method).toBe('welch');
    expect(r.mean).toBeCloseTo(8.5, 12);
    expect(r.stdErr).toBeCloseTo(se, 12);
    expect(r.df).toBeCloseTo(df, 12);
    expect(r.df).toBeCloseTo(4.959184, 5);
    // t(0.975, 4.96) lies between the table's t(0.975, 5) = 2.570582 and t(0.975, 4) = 2.776445.
    expect(r.t).toBeGreaterThan(2.570582);
    expect(r.t).toBeLessThan(2.776445);
    expect(studentTCdf(r.t, r.df)).toBeCloseTo(0.975, 10);
    expect(r.lower).toBeCloseTo(8.5 - r.t * se, 12);
    expect(r.upper).toBeCloseTo(8.5 + r.t * se, 12);
    expect(r.containsZero).toBe(false);
  });

  it('gives no interval (and marks it as not telling models apart) with one seed', () => {
    const r = pairedDifference([2], [1]);
    expect(r.mean).toBe(1);
    expect(Number.isNaN(r.lower)).toBe(true);
    expect(r.containsZero).toBe(true);
    expect(Number.isNaN(welchDifference([2], [1, 3]).upper)).toBe(true);
  });

  it('compares every model with the baseline, quantity by quantity', () => {
    const values = {
      gaussian: { elbo: [-100, -101, -99], gap: [6, 6.5, 5.5] },
      planar: { elbo: [-98, -99.5, -97], gap: [5, 5.2, 4.4] },
    };
    const d = differencesFromBaseline(values, 'gaussian', 'paired');
    expect(Object.keys(d)).toEqual(['planar']);
    expect(d.planar!.elbo!.mean).toBeCloseTo(pairedDifference(values.planar.elbo, values.gaussian.elbo).mean, 12);
    expect(d.planar!.gap!.upper).toBeCloseTo(pairedDifference(values.planar.gap, values.gaussian.gap).upper, 12);
    expect(() => differencesFromBaseline(values, 'iaf', 'paired')).toThrow(/no model named "iaf"/);
  });
});
