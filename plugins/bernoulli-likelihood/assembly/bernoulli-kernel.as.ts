// AssemblyScript source of the Bernoulli log-likelihood kernels (`../bernoulli-kernel.ts`
// documents the math). Compiled to `../bernoulli-wasm.ts` by `npm run build:wasm`; a test checks
// that the committed binary is this file's.
//
// The module owns no memory: it imports the memory holding the tensors and writes only its
// outputs and its work area (the vector constants). exp and log1p are computed here
// (AssemblyScript's Math keeps tables in a data segment, which would land in tfjs's heap):
// float32x4 polynomials for the body of each row, float64 series for the last P mod 4 columns.
//
// Pointers are byte offsets; l is [N, P] with N = K·B, x is [B, P] (row n of l uses row n mod B).

const INV_LN2: f64 = 1.4426950408889634;
const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;

/** e^y for y ≤ 0, and 0 below −700 (e^−700 < 1e−304): 2^k·e^r, |r| ≤ ln2/2, e^r by its Taylor series to r^13 (error < 2e−16 relative). */
@inline function expNonPositive(y: f64): f64 {
  if (y < -700) return 0;
  const k = floor(y * INV_LN2 + 0.5);
  const r = y - k * LN2_HI - k * LN2_LO;
  let p: f64 = 1 + r * (1.0 / 13);
  p = 1 + r * (1.0 / 12) * p;
  p = 1 + r * (1.0 / 11) * p;
  p = 1 + r * (1.0 / 10) * p;
  p = 1 + r * (1.0 / 9) * p;
  p = 1 + r * (1.0 / 8) * p;
  p = 1 + r * (1.0 / 7) * p;
  p = 1 + r * (1.0 / 6) * p;
  p = 1 + r * (1.0 / 5) * p;
  p = 1 + r * (1.0 / 4) * p;
  p = 1 + r * (1.0 / 3) * p;
  p = 1 + r * (1.0 / 2) * p;
  p = 1 + r * p;
  return p * reinterpret<f64>(<u64>(<i64>k + 1023) << 52);
}

/** log(1 + t) for t in [0, 1] as 2·atanh(s), s = t/(2 + t) ≤ 1/3: 2·Σ s^(2i+1)/(2i+1) to i = 15 (error < 1e−17). */
@inline function log1pUnit(t: f64): f64 {
  const s = t / (2 + t);
  const q = s * s;
  let p: f64 = 1.0 / 31;
  p = 1.0 / 29 + q * p;
  p = 1.0 / 27 + q * p;
  p = 1.0 / 25 + q * p;
  p = 1.0 / 23 + q * p;
  p = 1.0 / 21 + q * p;
  p = 1.0 / 19 + q * p;
  p = 1.0 / 17 + q * p;
  p = 1.0 / 15 + q * p;
  p = 1.0 / 13 + q * p;
  p = 1.0 / 11 + q * p;
  p = 1.0 / 9 + q * p;
  p = 1.0 / 7 + q * p;
  p = 1.0 / 5 + q * p;
  p = 1.0 / 3 + q * p;
  p = 1 + q * p;
  return 2 * s * p;
}

// float32x4 versions for the body of each row (the scalar float64 ones above do the last P mod 4
// columns): e^y with y clamped to ≥ −87 (e^−87 < 2e−38; pmax, one instruction, where max's NaN
// and ±0 rules cost several), |r| ≤ ln2/2, a degree-6 Taylor polynomial (relative error < 2e−7);
// log(1 + t) = 2·atanh(s) to s^13 (error < 2e−8).
const LN2_HI32: f32 = 0.693359375;
const LN2_LO32: f32 = -2.12194440e-4;
const SHIFTER: f32 = 12582912; // 1.5·2^23

// The vector constants live in the work area (`setConstants`, once per call) and are loaded from
// there: V8 does not hoist a v128.const out of a loop but builds it at every use (loading them
// instead made these loops 25–35 % faster). Slots of 16 bytes:
const MINUS_87 = 0;
const INV_LN2_4 = 1;
const SHIFTER_4 = 2;
const LN2_HI_4 = 3;
const LN2_LO_4 = 4;
const ONE = 5;
const C6 = 6;
const C5 = 7;
const C4 = 8;
const C3 = 9;
const C2 = 10;
const EXP_BIAS = 11;
const TWO = 12;
const C13 = 13;
const C11 = 14;
const C9 = 15;
const C7 = 16;
/** Number of 16-byte constant slots (the host sizes the work area to match: `BERNOULLI_CONSTANTS` in `../bernoulli-kernel.ts`). */
const CONSTANTS = 17;

/** Writes the vector constants of `expNonPositive4` and `log1pUnit4` at c (CONSTANTS slots). */
function setConstants(c: usize): void {
  v128.store(c + (MINUS_87 << 4), f32x4.splat(-87));
  v128.store(c + (INV_LN2_4 << 4), f32x4.splat(<f32>INV_LN2));
  v128.store(c + (SHIFTER_4 << 4), f32x4.splat(SHIFTER));
  v128.store(c + (LN2_HI_4 << 4), f32x4.splat(LN2_HI32));
  v128.store(c + (LN2_LO_4 << 4), f32x4.splat(LN2_LO32));
  v128.store(c + (ONE << 4), f32x4.splat(1));
  v128.store(c + (C6 << 4), f32x4.splat(<f32>(1.0 / 6)));
  v128.store(c + (C5 << 4), f32x4.splat(<f32>(1.0 / 5)));
  v128.store(c + (C4 << 4), f32x4.splat(<f32>(1.0 / 4)));
  v128.store(c + (C3 << 4), f32x4.splat(<f32>(1.0 / 3)));
  v128.store(c + (C2 << 4), f32x4.splat(<f32>(1.0 / 2)));
  v128.store(c + (EXP_BIAS << 4), i32x4.splat(127));
  v128.store(c + (TWO << 4), f32x4.splat(2));
  v128.store(c + (C13 << 4), f32x4.splat(<f32>(1.0 / 13)));
  v128.store(c + (C11 << 4), f32x4.splat(<f32>(1.0 / 11)));
  v128.store(c + (C9 << 4), f32x4.splat(<f32>(1.0 / 9)));
  v128.store(c + (C7 << 4), f32x4.splat(<f32>(1.0 / 7)));
}

/** The constant in slot i. */
@inline function K(c: usize, i: usize): v128 {
  return v128.load(c + (i << 4));
}

@inline function expNonPositive4(y: v128, c: usize): v128 {
  const yc = f32x4.pmax(y, K(c, MINUS_87));
  // k = round(yc/ln2) by the 1.5·2^23 shifter: the sum's low mantissa bits hold k (|k| ≤ 126).
  const kBits = f32x4.add(f32x4.mul(yc, K(c, INV_LN2_4)), K(c, SHIFTER_4));
  const k = f32x4.sub(kBits, K(c, SHIFTER_4));
  const r = f32x4.sub(f32x4.sub(yc, f32x4.mul(k, K(c, LN2_HI_4))), f32x4.mul(k, K(c, LN2_LO_4)));
  const one = K(c, ONE);
  let p = f32x4.add(one, f32x4.mul(r, K(c, C6)));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C5)), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C4)), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C3)), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C2)), p));
  p = f32x4.add(one, f32x4.mul(r, p));
  // 2^k: the shifter's own bits (0x4B400000) vanish in the shift by 23.
  const scale = i32x4.shl(i32x4.add(kBits, K(c, EXP_BIAS)), 23);
  return f32x4.mul(p, scale);
}

@inline function log1pUnit4(t: v128, c: usize): v128 {
  const s = f32x4.div(t, f32x4.add(K(c, TWO), t));
  const q = f32x4.mul(s, s);
  let p = K(c, C13);
  p = f32x4.add(K(c, C11), f32x4.mul(q, p));
  p = f32x4.add(K(c, C9), f32x4.mul(q, p));
  p = f32x4.add(K(c, C7), f32x4.mul(q, p));
  p = f32x4.add(K(c, C5), f32x4.mul(q, p));
  p = f32x4.add(K(c, C3), f32x4.mul(q, p));
  p = f32x4.add(K(c, ONE), f32x4.mul(q, p));
  return f32x4.mul(f32x4.add(s, s), p);
}

/** out[n] = −Σ_p [max(l, 0) − x·l + log(1 + e^−|l|)] (`work`: CONSTANTS slots). */
export function forward(l: usize, x: usize, out: usize, work: usize, n: i32, b: i32, p: i32): void {
  forwardRows(l, x, out, work, n, b, p, 0, n);
}

/** `forward` for rows r0 … r1 − 1 only (threads take ranges of rows: the same bits). Every call writes the same constants into `work`. */
export function forwardRows(l: usize, x: usize, out: usize, work: usize, n: i32, b: i32, p: i32, r0: i32, r1: i32): void {
  setConstants(work);
  const p4 = p & ~3;
  const zero = f32x4.splat(0);
  for (let row = r0; row < r1; row++) {
    const pl = l + (<usize>(row * p) << 2);
    const px = x + (<usize>((row % b) * p) << 2);
    let acc = zero;
    for (let j = 0; j < p4; j += 4) {
      const lj = v128.load(pl + (<usize>j << 2));
      const xj = v128.load(px + (<usize>j << 2));
      const t = expNonPositive4(f32x4.neg(f32x4.abs(lj)), work);
      acc = f32x4.add(acc, f32x4.add(f32x4.sub(f32x4.pmax(lj, zero), f32x4.mul(xj, lj)), log1pUnit4(t, work)));
    }
    let sum: f64 = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
    for (let j = p4; j < p; j++) {
      const lj = <f64>load<f32>(pl + (<usize>j << 2));
      const xj = <f64>load<f32>(px + (<usize>j << 2));
      sum += max(lj, 0) - xj * lj + log1pUnit(expNonPositive(-abs(lj)));
    }
    store<f32>(out + (<usize>row << 2), <f32>-sum);
  }
}

/** dl[n, p] = dy[n]·(x − σ(l)), σ(l) = 1/(1 + e^−l) (`work`: the constants, as in `forward`). */
export function backward(l: usize, x: usize, dy: usize, dl: usize, work: usize, n: i32, b: i32, p: i32): void {
  backwardRows(l, x, dy, dl, work, n, b, p, 0, n);
}

/** `backward` for rows r0 … r1 − 1 only (the same bits). */
export function backwardRows(l: usize, x: usize, dy: usize, dl: usize, work: usize, n: i32, b: i32, p: i32, r0: i32, r1: i32): void {
  setConstants(work);
  const p4 = p & ~3;
  const zero = f32x4.splat(0);
  for (let row = r0; row < r1; row++) {
    const pl = l + (<usize>(row * p) << 2);
    const px = x + (<usize>((row % b) * p) << 2);
    const pd = dl + (<usize>(row * p) << 2);
    const gs = load<f32>(dy + (<usize>row << 2));
    const g4 = f32x4.splat(gs);
    for (let j = 0; j < p4; j += 4) {
      const lj = v128.load(pl + (<usize>j << 2));
      const xj = v128.load(px + (<usize>j << 2));
      const t = expNonPositive4(f32x4.neg(f32x4.abs(lj)), work);
      const one = K(work, ONE);
      // σ(l) = 1/(1 + t) for l ≥ 0, t/(1 + t) below, t = e^−|l|.
      const sigma = f32x4.div(v128.bitselect(one, t, f32x4.ge(lj, zero)), f32x4.add(one, t));
      v128.store(pd + (<usize>j << 2), f32x4.mul(g4, f32x4.sub(xj, sigma)));
    }
    const g = <f64>gs;
    for (let j = p4; j < p; j++) {
      const lj = <f64>load<f32>(pl + (<usize>j << 2));
      const xj = <f64>load<f32>(px + (<usize>j << 2));
      const t = expNonPositive(-abs(lj));
      const sigma = lj >= 0 ? 1 / (1 + t) : t / (1 + t);
      store<f32>(pd + (<usize>j << 2), <f32>(g * (xj - sigma)));
    }
  }
}
