/**
 * The importance identity that ties a sampler to its log-density: for draws s_i ~ p and any
 * normalised reference density r whose support p covers, E_p[r(s)/p(s)] = ∫ r = 1. A log-density
 * off by a constant c (a wrong normaliser) moves the mean to e^(−c); samples drawn from another
 * distribution than the density describes move it too. The reference here is N(m, (0.8σ)²) per
 * coordinate, with m and σ the draws' own mean and std (narrower than p, so the weights r/p stay
 * bounded for any p with Gaussian or heavier tails; for p Gaussian the weights' variance is
 * 1.072^D − 1), or the uniform distribution on {0, 1}^P for binary data. The mean of the weights must
 * be 1 to max(5 standard errors, `tolerance`).
 */
import { LOG_2PI } from '../core/math.js';
import { ensure } from './check.js';

export type Support = 'real' | 'binary';

/**
 * Checks the identity for `n` draws of width `dim` (row-major `values`) and their log-densities;
 * returns the detail line.
 */
export function checkImportanceIdentity(values: Float32Array, logDensity: Float32Array, dim: number, support: Support, tolerance = 0.02): string {
  const n = logDensity.length;
  ensure(values.length === n * dim, () => `expected ${n} × ${dim} values; got ${values.length}`);
  for (let i = 0; i < n; i++) ensure(Number.isFinite(logDensity[i]!), () => `the log-density of draw ${i} is ${logDensity[i]}`);
  const logRef = new Float64Array(n);
  if (support === 'binary') {
    for (let i = 0; i < values.length; i++) ensure(values[i] === 0 || values[i] === 1, () => `a draw has value ${values[i]}; binary support expects 0 or 1`);
    logRef.fill(-dim * Math.LN2);
  } else {
    for (let j = 0; j < dim; j++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += values[i * dim + j]!;
      mean /= n;
      let varSum = 0;
      for (let i = 0; i < n; i++) varSum += (values[i * dim + j]! - mean) ** 2;
      const std = 0.8 * Math.sqrt(varSum / (n - 1));
      ensure(std > 0, () => `coordinate ${j} of the draws is constant (${mean}): the sampler does not sample`);
      for (let i = 0; i < n; i++) logRef[i]! += -0.5 * ((values[i * dim + j]! - mean) / std) ** 2 - Math.log(std) - 0.5 * LOG_2PI;
    }
  }
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.exp(logRef[i]! - logDensity[i]!);
    sum += w;
    sumSq += w * w;
  }
  const mean = sum / n;
  const se = Math.sqrt(Math.max(sumSq / n - mean * mean, 0) / n);
  const allowed = Math.max(5 * se, tolerance);
  ensure(
    Math.abs(mean - 1) <= allowed,
    () => `E[r/p] over ${n} draws = ${mean.toFixed(4)} ± ${se.toFixed(4)} (1 for a normalised log-density of the draws); off by ${Math.abs(mean - 1).toFixed(4)} > ${allowed.toFixed(4)} (a log-normaliser error of about ${(-Math.log(mean)).toFixed(3)} nats)`,
  );
  return `E[r/p] = ${mean.toFixed(4)} ± ${se.toFixed(4)} over ${n} draws (1 expected)`;
}
