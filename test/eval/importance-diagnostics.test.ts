import { describe, expect, it } from 'vitest';
import { Random } from '../../plugins/index.js';
import { LinearGaussianModel } from '../../src/data/linear-gaussian.js';
import { boundReport, formatBoundReport } from '../../src/eval/bound-report.js';
import { estimateLogLikelihood } from '../../src/eval/log-likelihood.js';
import { linearVae } from '../support/linear-vae.js';
import {
  effectiveSampleSize,
  fitGeneralizedPareto,
  ImportanceDiagnosticsAccumulator,
  paretoKHat,
  paretoTailLength,
  summarizeDiagnostics,
  TopLogWeights,
} from '../../src/eval/importance-diagnostics.js';

/** n draws from GPD(k, σ) by inversion: y = σ(U^(−k) − 1)/k. */
function gpdSample(n: number, k: number, sigma: number, seed: number): Float64Array {
  const r = new Random(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - r.uniform();
    out[i] = k === 0 ? -sigma * Math.log(u) : (sigma * (u ** -k - 1)) / k;
  }
  return out;
}

describe('effectiveSampleSize', () => {
  it('equals (Σw)²/Σw² on fixed weights', () => {
    expect(effectiveSampleSize([0, 0, 0, 0])).toBeCloseTo(4, 12);
    expect(effectiveSampleSize([0, -Infinity, -Infinity])).toBeCloseTo(1, 12);
    expect(effectiveSampleSize([1, 2, 3].map(Math.log))).toBeCloseTo(36 / 14, 12);
    // Shifting every log-weight by a constant (huge or tiny) changes nothing.
    expect(effectiveSampleSize([1, 2, 3].map((w) => Math.log(w) - 2000))).toBeCloseTo(36 / 14, 10);
    expect(effectiveSampleSize([0, NaN])).toBeNaN();
  });
});

describe('fitGeneralizedPareto', () => {
  for (const k of [0.2, 0.5, 0.9]) {
    it(`recovers the shape k = ${k} and the scale of 4000 GPD draws within 0.08 (k) and 10 % (σ)`, () => {
      const fit = fitGeneralizedPareto(gpdSample(4000, k, 2, 11), { weakPrior: false });
      expect(Math.abs(fit.k - k)).toBeLessThan(0.08);
      expect(Math.abs(fit.sigma / 2 - 1)).toBeLessThan(0.1);
    });
  }
  it('shrinks towards 0.5 by 10 pseudo-observations with the weak prior', () => {
    const y = gpdSample(40, 0.1, 1, 3);
    const a = fitGeneralizedPareto(y, { weakPrior: false }).k;
    expect(fitGeneralizedPareto(y).k).toBeCloseTo((40 * a + 5) / 50, 12);
  });
  it('names what it received when the input is unusable', () => {
    expect(() => fitGeneralizedPareto([1])).toThrow(/at least 2 exceedances; got 1/);
    expect(() => fitGeneralizedPareto([-1, 2])).toThrow(/finite exceedances ≥ 0; got min -1/);
  });
});

describe('paretoKHat', () => {
  it('uses the PSIS tail length ⌈min(K/5, 3√K)⌉', () => {
    expect(paretoTailLength(100)).toBe(20);
    expect(paretoTailLength(5000)).toBe(213);
  });
  it('is 1/α for Pareto(α) weights (heavy tail: k = 0.8 > 0.7) and small for bounded weights', () => {
    // w = U^(−k): a Pareto tail with shape k; log w = −k log U.
    for (const k of [0.3, 0.8]) {
      const r = new Random(7);
      const logW = Float64Array.from({ length: 20000 }, () => -k * Math.log(1 - r.uniform()));
      expect(Math.abs(paretoKHat(logW) - k)).toBeLessThan(0.1);
    }
    const r = new Random(8);
    const bounded = Float64Array.from({ length: 5000 }, () => Math.log(r.uniform()));
    expect(paretoKHat(bounded)).toBeLessThan(0);
  });
  it('gives the same k̂ from the largest M + 1 log-weights as from all of them', () => {
    const r = new Random(9);
    const logW = Float64Array.from({ length: 3000 }, () => 3 * r.gaussian());
    const top = Float64Array.from(logW).sort().slice(-(paretoTailLength(3000) + 1));
    expect(paretoKHat(top, { samples: 3000 })).toBe(paretoKHat(logW));
    expect(() => paretoKHat(top.slice(1), { samples: 3000 })).toThrow(/the 166 largest of 3000 log-weights; got 165/);
  });
});

describe('streamed diagnostics', () => {
  it('TopLogWeights keeps exactly the largest values of each row', () => {
    const r = new Random(4);
    const rows = 3;
    const k = 500;
    const v = Float64Array.from({ length: k * rows }, () => r.gaussian());
    const top = new TopLogWeights(rows, 17);
    for (let s = 0; s < k; s += 100) top.push(v.subarray(s * rows, (s + 100) * rows), 100);
    for (let i = 0; i < rows; i++) {
      const all = Float64Array.from({ length: k }, (_, s) => v[s * rows + i]!).sort();
      expect(Array.from(top.row(i).sort())).toEqual(Array.from(all.slice(-17)));
    }
  });
  it('the accumulator equals the direct ESS and k̂ of each row whatever the chunking, and ignores draws past K', () => {
    const r = new Random(5);
    const rows = 4;
    const K = 1000;
    const v = Float64Array.from({ length: (K + 50) * rows }, (_, j) => (j % rows) * r.gaussian());
    const acc = new ImportanceDiagnosticsAccumulator(rows, K);
    for (let s = 0; s < K + 50; s += 70) {
      const c = Math.min(70, K + 50 - s);
      acc.push(v.subarray(s * rows, (s + c) * rows), c);
    }
    const ess = acc.ess();
    const kh = acc.paretoK();
    for (let i = 0; i < rows; i++) {
      const row = Float64Array.from({ length: K }, (_, s) => v[s * rows + i]!);
      expect(ess[i]).toBeCloseTo(effectiveSampleSize(row), 8);
      if (i === 0) expect(kh[i]).toBeNaN(); // all weights equal: no tail
      else expect(kh[i]).toBeCloseTo(paretoKHat(row), 12);
    }
    expect(ess[0]).toBeCloseTo(K, 8);
    const s = summarizeDiagnostics(ess, kh, K);
    expect(s.undefinedRows).toBe(1);
    expect(s.ess.min).toBeCloseTo(Math.min(...ess), 12);
  });
});

describe('diagnostics beside log p̂(x)', () => {
  const truth = LinearGaussianModel.random({ dataDim: 6, latentDim: 2, sigma: 0.4, seed: 31 });
  const data = truth.sample(20, new Random(32));
  it('ESS = K when q is the exact posterior (every weight is p(x)), and falls with a shifted q', async () => {
    const exact = linearVae(truth);
    const e = await estimateLogLikelihood(exact, data, { samples: 500, seed: 2, progress: false });
    expect(e.diagnostics.ess.min).toBeGreaterThan(499.9);
    const off = linearVae(truth, { meanShift: 0.5, logStdShift: -0.7 });
    const o = await estimateLogLikelihood(off, data, { samples: 500, seed: 2, progress: false });
    expect(o.diagnostics.ess.mean).toBeLessThan(250);
    // A proposal narrower than the target has heavy-tailed weights: k̂ well above 0.
    expect(o.diagnostics.paretoK.median).toBeGreaterThan(0.5);
    expect(o.ess.length).toBe(20);
    const r = await boundReport(off, data, { elboSamples: 10, iwaeSamples: [1, 500], samples: 500, seed: 2, progress: false });
    expect(r.diagnostics.samples).toBe(500);
    expect(formatBoundReport(r)).toMatch(/Pareto k̂ median [0-9.]+, max [0-9.]+, \d+ of 20 rows > 0.7/);
    exact.dispose();
    off.dispose();
  });
});
