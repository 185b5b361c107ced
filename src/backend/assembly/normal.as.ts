// AssemblyScript source of the diagonal Normal's kernels — sample, log q, KL and their gradients
// (`../../core/diagonal-normal-kernels.ts` documents the math). Compiled to `../normal-wasm.ts` by
// `npm run build:wasm`; a test checks that the committed binary is this file's.
//
// The module owns no memory (see `../host-wasm.ts`): it imports the memory holding the tensors and
// writes only its outputs and its work area (the vector constants). Every operation is float32, in
// the order the kernel's documentation gives, each sum in index order; elementwise work runs four
// lanes at a time (the same operations per lane). e^x is computed here in float32x4 (AssemblyScript's
// Math keeps tables in a data segment): x = k·ln2 + r, |r| ≤ ln2/2 (Cody–Waite), e^r by its Taylor
// series to r^7, times 2^k as two powers of two (so results near the ends of the float32 range
// underflow to subnormals and 0, or overflow to ∞, as e^x does); within 1 float32 ulp of e^x
// rounded to float32 (tested); NaN stays NaN.

import { EXP_BIAS, EXP_SLOTS, K, ONE, expm1Factor, load4, remainderLn2, setExpConstants, shiftedK, store4 } from './simd';

// Vector constants in the work area (see `simd.as.ts`): the e^x helpers' EXP_SLOTS, then these.
const HI = EXP_SLOTS;
const LO = EXP_SLOTS + 1;
const SHIFTER_BITS = EXP_SLOTS + 2;
/** Number of 16-byte constant slots (the host sizes the work area to match: `NORMAL_CONSTANTS` in `../../core/diagonal-normal-kernels.ts`). */
const CONSTANTS = EXP_SLOTS + 3;

/** Writes the vector constants at c (CONSTANTS slots). */
function setConstants(c: usize): void {
  setExpConstants(c);
  v128.store(c + (HI << 4), f32x4.splat(89));
  v128.store(c + (LO << 4), f32x4.splat(-104));
  v128.store(c + (SHIFTER_BITS << 4), i32x4.splat(0x4b400000));
}

/** e^x of four lanes. */
@inline function exp4(x: v128, c: usize): v128 {
  // Clamped to [−104, 89], where e^x is already 0 or ∞ in float32 (pmin/pmax keep a NaN: one instruction each).
  const y = f32x4.pmax(f32x4.pmin(x, K(c, HI)), K(c, LO));
  const kBits = shiftedK(y, c); // |k| ≤ 151
  const r = remainderLn2(y, kBits, c);
  const p = f32x4.add(K(c, ONE), f32x4.mul(r, expm1Factor(r, c)));
  // 2^k = 2^k1 · 2^k2 with k1 = ⌊k/2⌋: both normal for |k| ≤ 151.
  const ki = i32x4.sub(kBits, K(c, SHIFTER_BITS));
  const k1 = i32x4.shr_s(ki, 1);
  const k2 = i32x4.sub(ki, k1);
  const s1 = i32x4.shl(i32x4.add(k1, K(c, EXP_BIAS)), 23);
  const s2 = i32x4.shl(i32x4.add(k2, K(c, EXP_BIAS)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** The sum of the first `count` lanes of v added to s, lane by lane in order. */
@inline function addLanes(s: f32, v: v128, count: i32): f32 {
  s += f32x4.extract_lane(v, 0);
  if (count > 1) s += f32x4.extract_lane(v, 1);
  if (count > 2) s += f32x4.extract_lane(v, 2);
  if (count > 3) s += f32x4.extract_lane(v, 3);
  return s;
}

/** z[s, i] = μ[i] + σ[i]·ε[s, i], σ = e^{log σ}, for i < n = B·D and s < k (`work`: CONSTANTS slots). */
export function sample(mean: usize, logStd: usize, eps: usize, z: usize, work: usize, k: i32, n: i32): void {
  setConstants(work);
  for (let i = 0; i < n; i += 4) {
    const count = min(4, n - i);
    const mu = load4(mean, i, count);
    const sigma = exp4(load4(logStd, i, count), work);
    for (let s = 0, j = i; s < k; s++, j += n) store4(z, j, f32x4.add(mu, f32x4.mul(sigma, load4(eps, j, count))), count);
  }
}

/**
 * For dz [k, n]: dμ[i] = Σ_s dz[s, i], d log σ[i] = Σ_s (dz[s, i]·σ[i])·ε[s, i], dε[s, i] = dz[s, i]·σ[i]
 * (sums in s order; `work`: CONSTANTS slots).
 */
export function sampleGradient(logStd: usize, eps: usize, dz: usize, dMean: usize, dLogStd: usize, dEps: usize, work: usize, k: i32, n: i32): void {
  setConstants(work);
  for (let i = 0; i < n; i += 4) {
    const count = min(4, n - i);
    const sigma = exp4(load4(logStd, i, count), work);
    let gm = f32x4.splat(0);
    let gs = f32x4.splat(0);
    for (let s = 0, j = i; s < k; s++, j += n) {
      const g = load4(dz, j, count);
      const gEps = f32x4.mul(g, sigma);
      gm = f32x4.add(gm, g);
      gs = f32x4.add(gs, f32x4.mul(gEps, load4(eps, j, count)));
      store4(dEps, j, gEps, count);
    }
    store4(dMean, i, gm, count);
    store4(dLogStd, i, gs, count);
  }
}

/** log q[s, r] = ((Σ_t ε[s, r, t]²)·(−½) − Σ_t log σ[r, t]) − constant for ε [k, b, d] (`work` unused). */
export function logQ(logStd: usize, eps: usize, out: usize, work: usize, k: i32, b: i32, d: i32, constant: f32): void {
  for (let r = 0; r < b; r++) {
    let sumLogStd: f32 = 0;
    for (let t = r * d; t < (r + 1) * d; t++) sumLogStd += load<f32>(logStd + (<usize>t << 2));
    for (let s = 0; s < k; s++) {
      const at = (s * b + r) * d;
      let squares: f32 = 0;
      for (let t = at; t < at + d; t++) {
        const e = load<f32>(eps + (<usize>t << 2));
        squares += e * e;
      }
      store<f32>(out + (<usize>(s * b + r) << 2), squares * -0.5 - sumLogStd - constant);
    }
  }
}

/** For dy [k, b]: dε[s, r, t] = −dy[s, r]·ε[s, r, t], d log σ[r, t] = −Σ_s dy[s, r] (in s order; `work` unused). */
export function logQGradient(eps: usize, dy: usize, dLogStd: usize, dEps: usize, work: usize, k: i32, b: i32, d: i32): void {
  for (let r = 0; r < b; r++) {
    let total: f32 = 0;
    for (let s = 0; s < k; s++) {
      const g = load<f32>(dy + (<usize>(s * b + r) << 2));
      total += g;
      const at = (s * b + r) * d;
      for (let t = at; t < at + d; t++) store<f32>(dEps + (<usize>t << 2), -g * load<f32>(eps + (<usize>t << 2)));
    }
    for (let t = r * d; t < (r + 1) * d; t++) store<f32>(dLogStd + (<usize>t << 2), -total);
  }
}

/** KL[r] = (Σ_t ((μ² + e^{2 log σ}) − (2 log σ + 1)))·½ for μ, log σ [b, d] (`work`: CONSTANTS slots). */
export function kl(mean: usize, logStd: usize, out: usize, work: usize, b: i32, d: i32): void {
  setConstants(work);
  const one = K(work, ONE);
  for (let r = 0; r < b; r++) {
    const row = r * d;
    let s: f32 = 0;
    for (let t = 0; t < d; t += 4) {
      const count = min(4, d - t);
      const mu = load4(mean, row + t, count);
      const twoLogStd = f32x4.add(load4(logStd, row + t, count), load4(logStd, row + t, count));
      s = addLanes(s, f32x4.sub(f32x4.add(f32x4.mul(mu, mu), exp4(twoLogStd, work)), f32x4.add(twoLogStd, one)), count);
    }
    store<f32>(out + (<usize>r << 2), s * 0.5);
  }
}

/** For dy [b]: dμ[r, t] = dy[r]·μ[r, t], d log σ[r, t] = dy[r]·(e^{2 log σ[r, t]} − 1) (`work`: CONSTANTS slots). */
export function klGradient(mean: usize, logStd: usize, dy: usize, dMean: usize, dLogStd: usize, work: usize, b: i32, d: i32): void {
  setConstants(work);
  const one = K(work, ONE);
  for (let r = 0; r < b; r++) {
    const row = r * d;
    const g = f32x4.splat(load<f32>(dy + (<usize>r << 2)));
    for (let t = 0; t < d; t += 4) {
      const count = min(4, d - t);
      const ls = load4(logStd, row + t, count);
      store4(dMean, row + t, f32x4.mul(g, load4(mean, row + t, count)), count);
      store4(dLogStd, row + t, f32x4.mul(g, f32x4.sub(exp4(f32x4.add(ls, ls), work), one)), count);
    }
  }
}
