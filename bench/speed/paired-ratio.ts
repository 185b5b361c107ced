import type { PairedRow } from './types.js';
import type { BlockTime, Stepper } from './steppers.js';

/**
 * A 95 % interval for the median of `sorted` from order statistics: [x₍ₖ₎, x₍ₙ₋ₖ₊₁₎] with the
 * largest k such that P(Binomial(n, ½) < k) ≤ 2.5 % (n ≥ 6; smaller n gives [min, max]).
 */
export function medianInterval(sorted: readonly number[]): [number, number] {
  const n = sorted.length;
  let k = 0;
  let cdf = 0; // P(Bin(n, ½) ≤ k − 1)
  let term = 0.5 ** n; // P(Bin = k)
  while (k < n && cdf + term <= 0.025) {
    cdf += term;
    term = (term * (n - k)) / (k + 1);
    k++;
  }
  return k === 0 ? [sorted[0]!, sorted[n - 1]!] : [sorted[k - 1]!, sorted[n - k]!];
}

/** The median of a sorted list and its 95 % interval. */
export function medianWithInterval(values: readonly number[]): { median: number; low: number; high: number } {
  const s = [...values].sort((p, q) => p - q);
  const m = Math.floor(s.length / 2);
  const [low, high] = medianInterval(s);
  return { median: s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2, low, high };
}

export interface PairedOptions {
  backend: string;
  batch: number;
  quick: boolean;
  rounds: number;
  /** `cpu` when both sides run on one thread each (robust to other processes), else `wall`. */
  clock: 'cpu' | 'wall';
}

/**
 * A's ms per step / B's, measured in alternating blocks (ABBA…) of ≈ 0.5 s each after a
 * warm-up of ≈ 1 s per side (see `PairedRow`).
 */
export async function pairedRatio(a: Stepper, b: Stepper, o: PairedOptions): Promise<PairedRow> {
  const ms = (t: BlockTime, n: number) => (o.clock === 'cpu' ? t.cpuMs : t.wallMs) / n;
  const warm = async (s: Stepper) => {
    const until = performance.now() + (o.quick ? 0 : 1000);
    do await s.run(1);
    while (performance.now() < until);
    const n = o.quick ? 1 : 2;
    return ms(await s.run(n), n);
  };
  const [msA, msB] = [await warm(a), await warm(b)];
  const size = (v: number) => (o.quick ? 1 : Math.max(1, Math.round(500 / v)));
  const na = size(msA);
  const nb = size(msB);
  const ratios: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    let ta: number;
    let tb: number;
    if (r % 2 === 0) {
      ta = ms(await a.run(na), na);
      tb = ms(await b.run(nb), nb);
    } else {
      tb = ms(await b.run(nb), nb);
      ta = ms(await a.run(na), na);
    }
    ratios.push(ta / tb);
    as.push(ta);
    bs.push(tb);
  }
  const { median, low, high } = medianWithInterval(ratios);
  return {
    backend: o.backend,
    batch: o.batch,
    numerator: a.label,
    denominator: b.label,
    clock: o.clock,
    rounds: o.rounds,
    stepsPerBlock: [na, nb],
    ratio: median,
    low,
    high,
    fastest: Math.min(...as) / Math.min(...bs),
    msA: medianWithInterval(as).median,
    msB: medianWithInterval(bs).median,
  };
}
