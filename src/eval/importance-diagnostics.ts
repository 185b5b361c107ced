/**
 * Diagnostics of an importance-sampled estimate p̂(x) = (1/K) Σ_k w_k, w_k = p(x, z_k)/q(z_k|x):
 *
 *   effective sample size  ESS = (Σ_k w_k)² / Σ_k w_k²  ∈ [1, K]   (Kong 1992; K when all w are equal),
 *   Pareto k̂ of PSIS: the shape of a generalized Pareto distribution fitted to the M largest
 *   weights, M = ⌈min(K/5, 3√K)⌉ (Vehtari, Simpson, Gelman, Yao & Gabry, "Pareto smoothed
 *   importance sampling", arXiv:1507.02646). The weights have 1/k̂ finite moments: k̂ < 0.5 the
 *   variance is finite; 0.5 ≤ k̂ ≤ 0.7 the estimate still converges in practice; k̂ > 0.7 it is
 *   unreliable (too slow to converge for any practical K).
 *
 * What neither can see: a region of high posterior mass that q never visits. Both look only at the
 * weights of the samples drawn; if every sample comes from one mode of a two-mode posterior the
 * weights can be perfectly even (ESS ≈ K, k̂ small) while log p̂(x) misses the other mode's mass.
 *
 * Everything here works on log-weights (float64 JS numbers), so nothing overflows.
 */

/** k̂ above which an importance-sampled estimate is unreliable (Vehtari et al., arXiv:1507.02646). */
export const PARETO_K_THRESHOLD = 0.7;

/** M, the PSIS tail length for K draws: ⌈min(0.2·K, 3√K)⌉. */
export function paretoTailLength(samples: number): number {
  return Math.ceil(Math.min(0.2 * samples, 3 * Math.sqrt(samples)));
}

function logSumExp(a: ArrayLike<number>, scale = 1): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (scale * a[i]! > m) m = scale * a[i]!;
  if (m === -Infinity) return -Infinity;
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.exp(scale * a[i]! - m);
  return m + Math.log(s);
}

/** ESS = (Σ w)² / Σ w² of weights given as log-weights; NaN if any is NaN or none is finite. */
export function effectiveSampleSize(logW: ArrayLike<number>): number {
  for (let i = 0; i < logW.length; i++) if (Number.isNaN(logW[i]!)) return NaN;
  const a = logSumExp(logW);
  if (!Number.isFinite(a)) return NaN;
  return Math.exp(2 * a - logSumExp(logW, 2));
}

export interface GeneralizedParetoFit {
  /** Shape k (ξ); heavier tails for larger k. */
  k: number;
  /** Scale σ > 0. */
  sigma: number;
}

/**
 * Fits a generalized Pareto distribution, density (1/σ)(1 + k·y/σ)^(−1/k−1) for y ≥ 0, to the
 * exceedances `y` (y ≥ 0) by the empirical-Bayes estimator of Zhang & Stephens (2009,
 * Technometrics 51:316): the profile likelihood of θ = −k/σ averaged over a grid of
 * m = 30 + ⌊√n⌋ values of θ with weights ∝ exp(profile log-likelihood), then
 * k = mean_i log(1 − θ̂ y_i), σ = −k/θ̂. With `weakPrior` (default, as PSIS does) k is shrunk
 * towards 0.5 as if by 10 pseudo-observations: k ← (n·k + 5)/(n + 10).
 */
export function fitGeneralizedPareto(exceedances: ArrayLike<number>, { weakPrior = true }: { weakPrior?: boolean } = {}): GeneralizedParetoFit {
  const n = exceedances.length;
  if (n < 2) throw new Error(`fitGeneralizedPareto: expected at least 2 exceedances; got ${n}`);
  const y = Float64Array.from(exceedances).sort();
  if (!(y[0]! >= 0) || !Number.isFinite(y[n - 1]!)) {
    throw new Error(`fitGeneralizedPareto: expected finite exceedances ≥ 0; got min ${y[0]}, max ${y[n - 1]}`);
  }
  if (y[n - 1] === 0) return { k: NaN, sigma: 0 };
  const m = 30 + Math.floor(Math.sqrt(n));
  const quartile = y[Math.max(0, Math.floor(n / 4 + 0.5) - 1)]! || y[n - 1]!;
  const theta = new Float64Array(m);
  const logLik = new Float64Array(m);
  const kOf = (t: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.log1p(-t * y[i]!);
    return s / n;
  };
  for (let j = 0; j < m; j++) {
    const t = 1 / y[n - 1]! + (1 - Math.sqrt(m / (j + 0.5))) / (3 * quartile);
    theta[j] = t;
    // Profile log-likelihood at θ = −k/σ, maximised over k: k(θ) = mean log(1 − θy), n·(log(−θ/k) − k − 1).
    const kt = kOf(t);
    logLik[j] = n * (Math.log(-t / kt) - kt - 1);
    if (Number.isNaN(logLik[j]!)) logLik[j] = -Infinity;
  }
  const lse = logSumExp(logLik);
  let thetaHat = 0;
  for (let j = 0; j < m; j++) thetaHat += theta[j]! * Math.exp(logLik[j]! - lse);
  let k = kOf(thetaHat);
  const sigma = -k / thetaHat;
  if (weakPrior) k = (n * k + 10 * 0.5) / (n + 10);
  return { k, sigma };
}

/**
 * PSIS's Pareto k̂ of K importance weights given as log-weights: the GPD shape fitted to the
 * exceedances w_(i) − w_(M+1) of the M = `paretoTailLength(K)` largest weights over the next one
 * (weights scaled by the largest, so nothing overflows). Only the M + 1 largest log-weights are
 * used, so a caller streaming K draws may keep just those (`TopLogWeights`) and pass `samples: K`.
 * NaN when the tail is degenerate (fewer than 5 tail draws, or all equal).
 */
export function paretoKHat(largestLogW: ArrayLike<number>, { samples = largestLogW.length }: { samples?: number } = {}): number {
  const tail = paretoTailLength(samples);
  const sorted = Float64Array.from(largestLogW).sort();
  for (const v of sorted) if (Number.isNaN(v)) return NaN;
  if (sorted.length < tail + 1) {
    throw new Error(`paretoKHat: expected the ${tail + 1} largest of ${samples} log-weights; got ${sorted.length}`);
  }
  if (tail < 5) return NaN;
  const top = sorted[sorted.length - 1]!;
  if (!Number.isFinite(top)) return NaN;
  const cutoff = Math.exp(sorted[sorted.length - tail - 1]! - top);
  const y = new Float64Array(tail);
  for (let i = 0; i < tail; i++) y[i] = Math.exp(sorted[sorted.length - tail + i]! - top) - cutoff;
  if (y[tail - 1]! <= 0) return NaN;
  return fitGeneralizedPareto(y).k;
}

/**
 * The `capacity` largest values pushed so far, per row, for rows fed as row-major `[samples, B]`
 * chunks (the layout of a `[K, B]` log-weight tensor): a min-heap per row, O(log capacity) per
 * value that enters. Keeps what `paretoKHat` needs from a stream of K draws with
 * capacity = paretoTailLength(K) + 1.
 */
export class TopLogWeights {
  private readonly heap: Float64Array;
  private readonly size: Int32Array;

  constructor(
    readonly rows: number,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`TopLogWeights: capacity: expected a positive integer; got ${capacity}`);
    this.heap = new Float64Array(rows * capacity);
    this.size = new Int32Array(rows);
  }

  push(logW: ArrayLike<number>, samples: number): void {
    const b = this.rows;
    if (logW.length !== samples * b) throw new Error(`TopLogWeights.push: expected ${samples}×${b} = ${samples * b} values; got ${logW.length}`);
    for (let k = 0; k < samples; k++) for (let i = 0; i < b; i++) this.add(i, logW[k * b + i]!);
  }

  private add(row: number, v: number): void {
    const h = this.heap;
    const base = row * this.capacity;
    let n = this.size[row]!;
    if (Number.isNaN(v)) v = Infinity; // kept, so that k̂ of the row is NaN-free but its top is non-finite
    if (n < this.capacity) {
      let i = n++;
      this.size[row] = n;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (h[base + p]! <= v) break;
        h[base + i] = h[base + p]!;
        i = p;
      }
      h[base + i] = v;
      return;
    }
    if (v <= h[base]!) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[base + r]! < h[base + l]! ? r : l;
      if (h[base + c]! >= v) break;
      h[base + i] = h[base + c]!;
      i = c;
    }
    h[base + i] = v;
  }

  /** The kept values of a row (unordered). */
  row(i: number): Float64Array {
    return this.heap.slice(i * this.capacity, i * this.capacity + this.size[i]!);
  }
}

/**
 * Streams K log-weights per row and gives, per row, ESS (running log-sum-exp of w and w²) and
 * PSIS k̂ (the top paretoTailLength(K) + 1 log-weights). Memory: O(B·√K).
 */
export class ImportanceDiagnosticsAccumulator {
  private readonly m: Float64Array;
  private readonly s1: Float64Array;
  private readonly s2: Float64Array;
  private readonly nan: Uint8Array;
  private readonly top: TopLogWeights;
  private seen = 0;

  constructor(
    readonly rows: number,
    readonly samples: number,
  ) {
    this.m = new Float64Array(rows).fill(-Infinity);
    this.s1 = new Float64Array(rows);
    this.s2 = new Float64Array(rows);
    this.nan = new Uint8Array(rows);
    this.top = new TopLogWeights(rows, Math.min(samples, paretoTailLength(samples) + 1));
  }

  /** Adds `samples` log-weights per row, row-major `[samples, B]`; at most K in total are used. */
  push(logW: ArrayLike<number>, samples: number): void {
    const b = this.rows;
    if (logW.length !== samples * b) throw new Error(`ImportanceDiagnosticsAccumulator.push: expected ${samples}×${b} = ${samples * b} values; got ${logW.length}`);
    const use = Math.min(samples, this.samples - this.seen);
    if (use <= 0) return;
    const part = use === samples ? logW : Array.prototype.slice.call(logW, 0, use * b);
    this.top.push(part, use);
    for (let k = 0; k < use; k++) {
      for (let i = 0; i < b; i++) {
        const v = part[k * b + i]!;
        if (Number.isNaN(v)) {
          this.nan[i] = 1;
          continue;
        }
        if (v === -Infinity) continue;
        const mi = this.m[i]!;
        if (v > mi) {
          const r = Math.exp(mi - v);
          this.s1[i] = this.s1[i]! * r + 1;
          this.s2[i] = this.s2[i]! * r * r + 1;
          this.m[i] = v;
        } else {
          const e = Math.exp(v - mi);
          this.s1[i] = this.s1[i]! + e;
          this.s2[i] = this.s2[i]! + e * e;
        }
      }
    }
    this.seen += use;
  }

  /** ESS per row, `[B]` (NaN for a row with a NaN or no finite weight). */
  ess(): Float64Array {
    const out = new Float64Array(this.rows);
    for (let i = 0; i < this.rows; i++) {
      out[i] = this.nan[i] || !Number.isFinite(this.m[i]!) ? NaN : (this.s1[i]! * this.s1[i]!) / this.s2[i]!;
    }
    return out;
  }

  /** PSIS k̂ per row, `[B]`. */
  paretoK(): Float64Array {
    const out = new Float64Array(this.rows);
    for (let i = 0; i < this.rows; i++) out[i] = this.nan[i] ? NaN : paretoKHat(this.top.row(i), { samples: this.seen });
    return out;
  }
}

/** ESS and k̂ over the rows of a data set (JSON-serialisable). */
export interface ImportanceDiagnostics {
  /** K the diagnostics were computed from. */
  samples: number;
  /** ESS: mean, minimum and median over rows. */
  ess: { mean: number; min: number; median: number };
  /** k̂: mean, maximum, median over rows, and the number and fraction of rows with k̂ > 0.7. */
  paretoK: { mean: number; max: number; median: number; above: number; fractionAbove: number; threshold: number };
  /** Rows whose k̂ or ESS was NaN (a non-finite weight or a degenerate tail). */
  undefinedRows: number;
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 ? sorted[(n - 1) >> 1]! : 0.5 * (sorted[n / 2 - 1]! + sorted[n / 2]!);
}

/** Summarises per-row ESS and k̂ (NaN rows counted apart and left out of the statistics). */
export function summarizeDiagnostics(ess: ArrayLike<number>, paretoK: ArrayLike<number>, samples: number): ImportanceDiagnostics {
  const e = Float64Array.from(Array.from(ess).filter((v) => !Number.isNaN(v))).sort();
  const k = Float64Array.from(Array.from(paretoK).filter((v) => !Number.isNaN(v))).sort();
  const mean = (a: Float64Array) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : NaN);
  const above = k.filter((v) => v > PARETO_K_THRESHOLD).length;
  let undefinedRows = 0;
  for (let i = 0; i < paretoK.length; i++) if (Number.isNaN(paretoK[i]!) || Number.isNaN(ess[i]!)) undefinedRows++;
  return {
    samples,
    ess: { mean: mean(e), min: e.length ? e[0]! : NaN, median: median(e) },
    paretoK: {
      mean: mean(k),
      max: k.length ? k[k.length - 1]! : NaN,
      median: median(k),
      above,
      fractionAbove: paretoK.length ? above / paretoK.length : NaN,
      threshold: PARETO_K_THRESHOLD,
    },
    undefinedRows,
  };
}

/** One line for a report: "ESS mean 812 (min 3.1) of K = 5000; Pareto k̂ median 0.41, max 0.93, 2 of 100 rows > 0.7". */
export function formatDiagnostics(d: ImportanceDiagnostics, rows: number): string {
  const f = (v: number, dg = 2) => (Number.isFinite(v) ? v.toFixed(dg) : String(v));
  const warn = d.paretoK.above > 0 ? ` — log p̂(x) is unreliable for those rows (k̂ > ${d.paretoK.threshold})` : '';
  return (
    `importance weights of log p̂(x): ESS mean ${f(d.ess.mean, 1)} (median ${f(d.ess.median, 1)}, min ${f(d.ess.min, 1)}) of K = ${d.samples}; ` +
    `Pareto k̂ median ${f(d.paretoK.median)}, max ${f(d.paretoK.max)}, ${d.paretoK.above} of ${rows} rows > ${d.paretoK.threshold}${warn}. ` +
    'Neither sees a posterior mode that q never visits.'
  );
}
