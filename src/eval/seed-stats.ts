/**
 * Seed-to-seed statistics for benchmark tables: the spread of a quantity across training seeds
 * and the difference of two models with a Student-t confidence interval.
 *
 * A seed is one replicate of the whole pipeline (initialisation, data order, binarisation
 * draws, encoder noise). With n seeds per model the sample standard deviation uses n − 1, and
 * intervals use the t distribution because n is small (3–10): with n = 3 the two-sided 95 %
 * quantile is t₀.₉₇₅,₂ = 4.30, not 1.96.
 */

/** Mean and sample standard deviation of per-seed values. */
export interface SeedSummary {
  /** Number of seeds n. */
  n: number;
  mean: number;
  /** Sample standard deviation across seeds (n − 1 in the denominator); 0 for one seed, NaN for none. */
  sd: number;
  /** The per-seed values, in seed order. */
  values: number[];
}

/** How two models' per-seed values are compared. */
export type DifferenceMethod = 'paired' | 'welch';

/** The difference a − b of two models with a two-sided t interval (JSON-serialisable). */
export interface SeedDifference {
  /**
   * `paired`: d_s = a_s − b_s per seed (models sharing seed s share something that matters,
   * e.g. the frozen decoder), mean(d) ± t₁₋α/₂,ₙ₋₁ · sd(d)/√n.
   * `welch`: independent samples, mean(a) − mean(b) ± t₁₋α/₂,ν · √(s_a²/n_a + s_b²/n_b) with the
   * Welch–Satterthwaite ν.
   */
  method: DifferenceMethod;
  /** Confidence level of the interval, e.g. 0.95. */
  level: number;
  /** Seeds of a and of b. */
  n: [number, number];
  /** Estimated difference a − b. */
  mean: number;
  /** Standard error of the difference. */
  stdErr: number;
  /** Degrees of freedom of the t quantile (NaN when the interval cannot be formed). */
  df: number;
  /** The t quantile t₁₋α/₂,df used. */
  t: number;
  /** Interval bounds (NaN when there are too few seeds). */
  lower: number;
  upper: number;
  /** lower ≤ 0 ≤ upper: the data do not tell the two models apart at this level (true when no interval exists). */
  containsZero: boolean;
}

/** Mean and sample standard deviation (n − 1) of per-seed values. */
export function summarizeSeeds(values: readonly number[]): SeedSummary {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, sd: NaN, values: [] };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const sd = n === 1 ? 0 : Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, values: [...values] };
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error < 1e-14). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const xm = x - 1;
  let a = c[0]!;
  const t = xm + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (xm + i);
  return 0.5 * Math.log(2 * Math.PI) + (xm + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz; Numerical Recipes §6.4). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b), 0 ≤ x ≤ 1, a, b > 0. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1)) throw new Error(`incompleteBeta: expected 0 ≤ x ≤ 1; got ${x}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(x, a, b)) / a
    : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T ≤ t) for Student's t with `df` > 0 degrees of freedom: 1 − ½·I_{df/(df+t²)}(df/2, ½) for t ≥ 0. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`studentTCdf: expected df > 0; got ${df}`);
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom (0 < p < 1; df may be fractional,
 * as Welch's is), by bisection on the CDF to ~1e-12. t₀.₉₇₅ is 12.706 (df 1), 4.303 (df 2),
 * 2.776 (df 4), 2.228 (df 10), → 1.960 as df → ∞.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: expected 0 < p < 1; got ${p}`);
  if (!(df > 0)) throw new Error(`studentTQuantile: expected df > 0; got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new Error(`level: expected a confidence level in (0, 1); got ${level}`);
}

function interval(method: DifferenceMethod, level: number, n: [number, number], mean: number, stdErr: number, df: number): SeedDifference {
  if (!(df > 0) || !Number.isFinite(stdErr)) {
    return { method, level, n, mean, stdErr, df: NaN, t: NaN, lower: NaN, upper: NaN, containsZero: true };
  }
  const t = studentTQuantile(1 - (1 - level) / 2, df);
  const lower = mean - t * stdErr;
  const upper = mean + t * stdErr;
  return { method, level, n, mean, stdErr, df, t, lower, upper, containsZero: lower <= 0 && upper >= 0 };
}

/**
 * Paired difference a − b by seed: d_s = a_s − b_s, mean(d) ± t₁₋α/₂,ₙ₋₁ · sd(d)/√n. Use when
 * seed s of both models shares what drives the outcome (the frozen-decoder comparison: the
 * encoders of seed s are trained against the same decoder). Needs n ≥ 2 seeds for an interval.
 */
export function pairedDifference(a: readonly number[], b: readonly number[], level = 0.95): SeedDifference {
  checkLevel(level);
  if (a.length !== b.length) {
    throw new Error(`pairedDifference: a paired comparison needs the same seeds for both models; got ${a.length} and ${b.length} values`);
  }
  const d = summarizeSeeds(a.map((v, i) => v - b[i]!));
  const stdErr = d.n >= 2 ? d.sd / Math.sqrt(d.n) : NaN;
  return interval('paired', level, [a.length, b.length], d.mean, stdErr, d.n - 1);
}

/**
 * Welch's difference of means for independent samples: mean(a) − mean(b) ± t₁₋α/₂,ν · SE with
 * SE² = s_a²/n_a + s_b²/n_b and the Welch–Satterthwaite ν = SE⁴ / ((s_a²/n_a)²/(n_a−1) + (s_b²/n_b)²/(n_b−1)).
 * Use when the two models share nothing beyond the recipe (co-trained models). Needs ≥ 2 seeds each.
 */
export function welchDifference(a: readonly number[], b: readonly number[], level = 0.95): SeedDifference {
  checkLevel(level);
  const sa = summarizeSeeds(a);
  const sb = summarizeSeeds(b);
  const mean = sa.mean - sb.mean;
  const n: [number, number] = [sa.n, sb.n];
  if (sa.n < 2 || sb.n < 2) return interval('welch', level, n, mean, NaN, NaN);
  const va = (sa.sd * sa.sd) / sa.n;
  const vb = (sb.sd * sb.sd) / sb.n;
  const se2 = va + vb;
  if (se2 === 0) return { method: 'welch', level, n, mean, stdErr: 0, df: sa.n + sb.n - 2, t: NaN, lower: mean, upper: mean, containsZero: mean === 0 };
  const df = (se2 * se2) / ((va * va) / (sa.n - 1) + (vb * vb) / (sb.n - 1));
  return interval('welch', level, n, mean, Math.sqrt(se2), df);
}

/** Difference by the named method. */
export function seedDifference(a: readonly number[], b: readonly number[], method: DifferenceMethod, level = 0.95): SeedDifference {
  return method === 'paired' ? pairedDifference(a, b, level) : welchDifference(a, b, level);
}

/**
 * Every model's difference from a baseline for each quantity: `values[model][quantity]` holds
 * per-seed values (seed order must agree across models for `paired`). The baseline's own entry
 * is left out.
 */
export function differencesFromBaseline(
  values: Record<string, Record<string, readonly number[]>>,
  baseline: string,
  method: DifferenceMethod,
  level = 0.95,
): Record<string, Record<string, SeedDifference>> {
  const base = values[baseline];
  if (!base) throw new Error(`baseline: no model named "${baseline}"; models: ${Object.keys(values).join(', ')}`);
  const out: Record<string, Record<string, SeedDifference>> = {};
  for (const [model, quantities] of Object.entries(values)) {
    if (model === baseline) continue;
    out[model] = {};
    for (const [q, v] of Object.entries(quantities)) {
      const b = base[q];
      if (!b) continue;
      out[model]![q] = seedDifference(v, b, method, level);
    }
  }
  return out;
}
