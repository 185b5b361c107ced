/** A mean over data rows with its standard error, nats. */
export interface Estimate {
  mean: number;
  /** Standard error of the mean across rows: sample standard deviation / √N (0 for one row). */
  stdErr: number;
}

/** Mean and standard error across rows (sample standard deviation with N − 1, divided by √N). */
export function meanStdErr(values: ArrayLike<number>): Estimate {
  const n = values.length;
  if (n === 0) return { mean: NaN, stdErr: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  if (n === 1) return { mean, stdErr: 0 };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  return { mean, stdErr: Math.sqrt(ss / (n - 1) / n) };
}

/** a − b elementwise (paired per-row differences). */
export function difference(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new Error(`difference: lengths differ (${a.length} vs ${b.length})`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
}

/** Median of a list of numbers (NaN for an empty list). */
export function median(values: ArrayLike<number>): number {
  const s = Array.from(values).sort((p, q) => p - q);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
