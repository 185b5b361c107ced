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

const INV_LN2: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const SHIFTER: f32 = 12582912; // 1.5·2^23

// The vector constants live in the work area (`setConstants`, once per call) and are loaded from
// there (V8 builds a v128.const at every use; see `bias-tanh.as.ts`). Slots of 16 bytes:
const HI = 0;
const LO = 1;
const INV_LN2_4 = 2;
const SHIFTER_4 = 3;
const LN2_HI_4 = 4;
const LN2_LO_4 = 5;
const ONE = 6;
const C7 = 7;
const C6 = 8;
const C5 = 9;
const C4 = 10;
const C3 = 11;
const C2 = 12;
const EXP_BIAS = 13;
const SHIFTER_BITS = 14;
/** Number of 16-byte constant slots (the host sizes the work area to match: `NORMAL_CONSTANTS` in `../../core/diagonal-normal-kernels.ts`). */
const CONSTANTS = 15;

/** Writes the vector constants at c (CONSTANTS slots). */
function setConstants(c: usize): void {
  v128.store(c + (HI << 4), f32x4.splat(89));
  v128.store(c + (LO << 4), f32x4.splat(-104));
  v128.store(c + (INV_LN2_4 << 4), f32x4.splat(INV_LN2));
  v128.store(c + (SHIFTER_4 << 4), f32x4.splat(SHIFTER));
  v128.store(c + (LN2_HI_4 << 4), f32x4.splat(LN2_HI));
  v128.store(c + (LN2_LO_4 << 4), f32x4.splat(LN2_LO));
  v128.store(c + (ONE << 4), f32x4.splat(1));
  v128.store(c + (C7 << 4), f32x4.splat(<f32>(1.0 / 7)));
  v128.store(c + (C6 << 4), f32x4.splat(<f32>(1.0 / 6)));
  v128.store(c + (C5 << 4), f32x4.splat(<f32>(1.0 / 5)));
  v128.store(c + (C4 << 4), f32x4.splat(<f32>(1.0 / 4)));
  v128.store(c + (C3 << 4), f32x4.splat(<f32>(1.0 / 3)));
  v128.store(c + (C2 << 4), f32x4.splat(<f32>(1.0 / 2)));
  v128.store(c + (EXP_BIAS << 4), i32x4.splat(127));
  v128.store(c + (SHIFTER_BITS << 4), i32x4.splat(0x4b400000));
}

/** The constant in slot i. */
@inline function K(c: usize, i: usize): v128 {
  return v128.load(c + (i << 4));
}

/** e^x of four lanes. */
@inline function exp4(x: v128, c: usize): v128 {
  // Clamped to [−104, 89], where e^x is already 0 or ∞ in float32 (pmin/pmax keep a NaN: one instruction each).
  const y = f32x4.pmax(f32x4.pmin(x, K(c, HI)), K(c, LO));
  // k = round(y/ln2) by the 1.5·2^23 shifter: the sum's low mantissa bits hold k (|k| ≤ 151).
  const kBits = f32x4.add(f32x4.mul(y, K(c, INV_LN2_4)), K(c, SHIFTER_4));
  const k = f32x4.sub(kBits, K(c, SHIFTER_4));
  const r = f32x4.sub(f32x4.sub(y, f32x4.mul(k, K(c, LN2_HI_4))), f32x4.mul(k, K(c, LN2_LO_4)));
  const one = K(c, ONE);
  let p = f32x4.add(one, f32x4.mul(r, K(c, C7)));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C6)), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C5)), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C4)), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C3)), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C2)), p));
  p = f32x4.add(one, f32x4.mul(r, p));
  // 2^k = 2^k1 · 2^k2 with k1 = ⌊k/2⌋: both normal for |k| ≤ 151.
  const ki = i32x4.sub(kBits, K(c, SHIFTER_BITS));
  const k1 = i32x4.shr_s(ki, 1);
  const k2 = i32x4.sub(ki, k1);
  const s1 = i32x4.shl(i32x4.add(k1, K(c, EXP_BIAS)), 23);
  const s2 = i32x4.shl(i32x4.add(k2, K(c, EXP_BIAS)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** Four floats at element i (only the first `count` read when count < 4; the rest are 0). */
@inline function load4(ptr: usize, i: i32, count: i32): v128 {
  if (count >= 4) return v128.load(ptr + (<usize>i << 2));
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(ptr + (<usize>i << 2)));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(ptr + (<usize>(i + 1) << 2)));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(ptr + (<usize>(i + 2) << 2)));
  return v;
}

@inline function store4(ptr: usize, i: i32, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(ptr + (<usize>i << 2), v);
    return;
  }
  store<f32>(ptr + (<usize>i << 2), f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(ptr + (<usize>(i + 1) << 2), f32x4.extract_lane(v, 1));
  if (count > 2) store<f32>(ptr + (<usize>(i + 2) << 2), f32x4.extract_lane(v, 2));
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
