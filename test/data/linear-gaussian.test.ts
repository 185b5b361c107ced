import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';
import {
  cholesky,
  inverseSpd,
  logDetSpd,
  matmul,
  matrix,
  maxAbsDiff,
  solveLower,
  transpose,
  type Matrix,
} from '../../src/core/linalg.js';
import { LinearGaussianModel } from '../../src/data/linear-gaussian.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Brute-force dense log N(x; m, C) via the Cholesky factor of the full P×P C. */
function denseLogNormal(x: ArrayLike<number>, m: ArrayLike<number>, c: Matrix): number {
  const p = c.rows;
  const l = cholesky(c);
  const r = matrix(p, 1, Array.from({ length: p }, (_, i) => x[i]! - m[i]!));
  const y = solveLower(l, r);
  let q = 0;
  for (const v of y.data) q += v * v;
  return -0.5 * (p * LOG_2PI + logDetSpd(c) + q);
}

function rowOf(a: ArrayLike<number>, n: number, width: number): number[] {
  return Array.from({ length: width }, (_, i) => a[n * width + i]!);
}

const P = 10;
const D = 3;

describe('LinearGaussianModel', () => {
  const model = LinearGaussianModel.random({ dataDim: P, latentDim: D, sigma: 0.7, seed: 4 });
  const skew = LinearGaussianModel.random({ dataDim: P, latentDim: D, sigma: 0.4, seed: 5, orthogonal: false });
  const data = model.sample(6, new Random(8));
  const xs = Float64Array.from(data.x);

  it('makes W with orthogonal columns of the requested norms when asked', () => {
    const w = model.weightMatrix();
    const wtw = matmul(transpose(w), w);
    const norms = [2, 1.25, 0.5];
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) expect(Math.abs(wtw.data[i * D + j]! - (i === j ? norms[i]! ** 2 : 0))).toBeLessThan(1e-12);
    }
    const skewGram = matmul(transpose(skew.weightMatrix()), skew.weightMatrix());
    expect(Math.abs(skewGram.data[1]!)).toBeGreaterThan(1e-3);
  });

  it('computes log p(x) by Woodbury equal to the dense log N(x; b, WWᵀ + σ²I) to 1e-10', () => {
    for (const m of [model, skew]) {
      const lp = m.logProb(xs);
      const c = m.covariance();
      for (let n = 0; n < 6; n++) {
        const dense = denseLogNormal(rowOf(xs, n, P), m.b, c);
        expect(Math.abs(lp[n]! - dense)).toBeLessThan(1e-10 * Math.max(1, Math.abs(dense)));
      }
      // Float32 input gives the same numbers as the same values in Float64.
      expect(Array.from(m.logProb(data.x))).toEqual(Array.from(lp));
      expect(m.logDetCov).toBeCloseTo(logDetSpd(c), 10);
    }
  });

  it('agrees with a Monte Carlo estimate log mean_z p(x|z) over 200,000 prior samples within 4 standard errors', () => {
    const n = 200_000;
    const random = new Random(21);
    const rows = 3;
    const logs = Array.from({ length: rows }, () => new Float64Array(n));
    const z = new Float64Array(D);
    const s2 = model.sigma ** 2;
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < D; j++) z[j] = random.gaussian();
      for (let r = 0; r < rows; r++) {
        let sq = 0;
        for (let i = 0; i < P; i++) {
          let mu = model.b[i]!;
          for (let j = 0; j < D; j++) mu += model.W[i * D + j]! * z[j]!;
          sq += (xs[r * P + i]! - mu) ** 2;
        }
        logs[r]![k] = -0.5 * (P * (LOG_2PI + Math.log(s2)) + sq / s2);
      }
    }
    const exact = model.logProb(xs);
    for (let r = 0; r < rows; r++) {
      const a = logs[r]!;
      let max = -Infinity;
      for (const v of a) max = Math.max(max, v);
      let s = 0;
      let s2w = 0;
      for (const v of a) {
        const w = Math.exp(v - max);
        s += w;
        s2w += w * w;
      }
      const meanW = s / n;
      const sdW = Math.sqrt(s2w / n - meanW * meanW);
      const estimate = max + Math.log(meanW);
      const se = sdW / (meanW * Math.sqrt(n)); // delta method: sd of log of the mean
      expect(se).toBeLessThan(0.05);
      expect(Math.abs(estimate - exact[r]!)).toBeLessThan(4 * se);
    }
  });

  it('gives the posterior of Bayes: equal to Gaussian conditioning Wᵀ C⁻¹ (x − b), I − Wᵀ C⁻¹ W', () => {
    for (const m of [model, skew]) {
      const { mean, cov } = m.posterior(xs);
      const w = m.weightMatrix();
      const cInv = inverseSpd(m.covariance());
      const gain = matmul(transpose(w), cInv); // D×P
      const denseCov = matmul(gain, w).data.map((v, i) => (i % (D + 1) === 0 ? 1 : 0) - v);
      expect(maxAbsDiff(matrix(D, D, cov), matrix(D, D, denseCov))).toBeLessThan(1e-10);
      for (let n = 0; n < 6; n++) {
        const r = matrix(P, 1, rowOf(xs, n, P).map((v, i) => v - m.b[i]!));
        const mu = matmul(gain, r).data;
        for (let j = 0; j < D; j++) expect(Math.abs(mean[n * D + j]! - mu[j]!)).toBeLessThan(1e-10);
      }
    }
  });

  it('satisfies log p(z|x) = log p(x|z) + log p(z) − log p(x) at random z', () => {
    const random = new Random(30);
    const { mean, cov } = skew.posterior(xs);
    const lpx = skew.logProb(xs);
    const covM = matrix(D, D, cov);
    for (let n = 0; n < 6; n++) {
      const z = Array.from({ length: D }, () => random.gaussian());
      const mu = Array.from({ length: P }, (_, i) => skew.b[i]! + z.reduce((s, zj, j) => s + skew.W[i * D + j]! * zj, 0));
      let sq = 0;
      for (let i = 0; i < P; i++) sq += (xs[n * P + i]! - mu[i]!) ** 2;
      const logPxz = -0.5 * (P * (LOG_2PI + 2 * Math.log(skew.sigma)) + sq / skew.sigma ** 2);
      const logPz = -0.5 * (D * LOG_2PI + z.reduce((s, v) => s + v * v, 0));
      const logPost = denseLogNormal(z, rowOf(mean, n, D), covM);
      expect(Math.abs(logPost - (logPxz + logPz - lpx[n]!))).toBeLessThan(1e-9);
    }
  });

  it('has a KL of zero when q is the exact (diagonal, for orthogonal W) posterior', () => {
    const { mean, cov } = model.posterior(xs);
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) if (i !== j) expect(Math.abs(cov[i * D + j]!)).toBeLessThan(1e-14);
    const logStd = new Float64Array(6 * D).map((_, k) => 0.5 * Math.log(cov[(k % D) * (D + 1)]!));
    const kl = model.klToPosterior(xs, mean, logStd);
    for (const v of kl) expect(Math.abs(v)).toBeLessThan(1e-12);
  });

  it('matches the dense Gaussian KL formula for any diagonal q, and log p(x) − ELBO(q) = KL within Monte Carlo error', () => {
    const random = new Random(31);
    const qMean = new Float64Array(6 * D).map(() => 0.5 * random.gaussian());
    const qLogStd = new Float64Array(6 * D).map(() => -1 + 0.3 * random.gaussian());
    for (const m of [model, skew]) {
      const kl = m.klToPosterior(xs, qMean, qLogStd);
      const { mean, cov } = m.posterior(xs);
      const sigmaInv = inverseSpd(matrix(D, D, cov));
      const logDetSigma = logDetSpd(matrix(D, D, cov));
      const lpx = m.logProb(xs);
      for (let n = 0; n < 6; n++) {
        let tr = 0;
        let quad = 0;
        let logDetS = 0;
        for (let i = 0; i < D; i++) {
          tr += sigmaInv.data[i * D + i]! * Math.exp(2 * qLogStd[n * D + i]!);
          logDetS += 2 * qLogStd[n * D + i]!;
          for (let j = 0; j < D; j++) {
            quad += (mean[n * D + i]! - qMean[n * D + i]!) * sigmaInv.data[i * D + j]! * (mean[n * D + j]! - qMean[n * D + j]!);
          }
        }
        const dense = 0.5 * (tr + quad - D + logDetSigma - logDetS);
        expect(Math.abs(kl[n]! - dense)).toBeLessThan(1e-10 * Math.max(1, dense));
        expect(kl[n]!).toBeGreaterThan(0);

        // ELBO(q) = E_q[log p(x|z) + log p(z) − log q(z)] by Monte Carlo (Float64).
        const k = 20_000;
        let s = 0;
        let ss = 0;
        for (let t = 0; t < k; t++) {
          let logQ = -0.5 * D * LOG_2PI;
          let logPz = -0.5 * D * LOG_2PI;
          const z = new Float64Array(D);
          for (let j = 0; j < D; j++) {
            const e = random.gaussian();
            z[j] = qMean[n * D + j]! + Math.exp(qLogStd[n * D + j]!) * e;
            logQ += -0.5 * e * e - qLogStd[n * D + j]!;
            logPz += -0.5 * z[j]! * z[j]!;
          }
          let sq = 0;
          for (let i = 0; i < P; i++) {
            let mu = m.b[i]!;
            for (let j = 0; j < D; j++) mu += m.W[i * D + j]! * z[j]!;
            sq += (xs[n * P + i]! - mu) ** 2;
          }
          const logPxz = -0.5 * (P * (LOG_2PI + 2 * Math.log(m.sigma)) + sq / m.sigma ** 2);
          const term = logPxz + logPz - logQ;
          s += term;
          ss += term * term;
        }
        const elbo = s / k;
        const se = Math.sqrt((ss / k - elbo * elbo) / k);
        expect(elbo).toBeLessThan(lpx[n]!);
        expect(Math.abs(lpx[n]! - elbo - kl[n]!)).toBeLessThan(4 * se + 1e-9);
      }
    }
  });

  it('samples data with mean b and covariance WWᵀ + σ²I, reproducibly by seed', () => {
    const n = 20_000;
    const d = model.sample(n, new Random(40));
    expect([d.name, d.rows, d.dim, d.binarize]).toEqual(['linear-gaussian', n, P, 'none']);
    expect(d.x).toBeInstanceOf(Float32Array);
    const again = model.sample(3, new Random(40));
    expect(Array.from(again.x)).toEqual(Array.from(d.x.subarray(0, 3 * P)));
    const c = model.covariance();
    const mean = new Float64Array(P);
    for (let r = 0; r < n; r++) for (let i = 0; i < P; i++) mean[i]! += d.x[r * P + i]! / n;
    for (let i = 0; i < P; i++) expect(Math.abs(mean[i]! - model.b[i]!)).toBeLessThan(5 * Math.sqrt(c.data[i * P + i]! / n));
    const emp = new Float64Array(P * P);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < P; i++) {
        const a = d.x[r * P + i]! - mean[i]!;
        for (let j = 0; j < P; j++) emp[i * P + j]! += (a * (d.x[r * P + j]! - mean[j]!)) / (n - 1);
      }
    }
    for (let i = 0; i < P; i++) {
      for (let j = 0; j < P; j++) {
        const cij = c.data[i * P + j]!;
        const sd = Math.sqrt((c.data[i * P + i]! * c.data[j * P + j]! + cij * cij) / n);
        expect(Math.abs(emp[i * P + j]! - cij)).toBeLessThan(5 * sd);
      }
    }
  });

  it('rejects bad parameters, naming the field and the value', () => {
    expect(() => new LinearGaussianModel({ W: [1, 2], b: [0, 0], sigma: 0, dataDim: 2, latentDim: 1 })).toThrow(
      'LinearGaussianModel sigma: expected a positive finite number; got 0',
    );
    expect(() => new LinearGaussianModel({ W: [1, 2, 3], b: [0, 0], sigma: 1, dataDim: 2, latentDim: 1 })).toThrow(
      'LinearGaussianModel W: expected 2×1 = 2 values (P×D row-major); got 3',
    );
    expect(() => LinearGaussianModel.random({ dataDim: 2, latentDim: 3, sigma: 1, seed: 1 })).toThrow(/orthogonal columns need latentDim ≤ dataDim \(2\); got 3/);
    expect(() => model.logProb(new Float64Array(7))).toThrow(/rows of width 10 .* got length 7/);
    expect(() => model.klToPosterior(xs, new Float64Array(3), new Float64Array(18))).toThrow(/qMean: expected 6×3 = 18 values; got 3/);
  });
});
