// AssemblyScript source of the standard normals of `Random` (`../../core/random.ts`): mulberry32
// uniforms through Box–Muller, the same stream as the JavaScript loop there bit for bit, faster.
// Compiled to `../box-muller-wasm.ts` by `npm run build:wasm`; a test checks that the committed
// binary is this file's.
//
// The JavaScript loop computes, per pair, r = √(−2·Math.log(u)) and r·Math.cos(a), r·Math.sin(a)
// with a = 2π·v in float64, and stores them as float32. Here log, cos and sin are our own float64
// approximations (relative error ≲ 1e−16, far inside a float32's 6e−8), and each value is kept
// only when every number within a relative 2⁻⁴⁷ of it rounds to the same float32: the value
// JavaScript computes lies that close (both are within a few float64 ulps of the exact value), so
// it rounds to the same float32. A pair that fails the check — or whose angle lies within 2⁻¹⁰ of
// a multiple of π/2, where the rounding of a = 2π·v itself matters — is computed with the imported
// Math functions, exactly as JavaScript does (≈ 1 pair in 800: one call of the imported log each).
//
// The module owns no memory and no globals: it imports the memory it writes its float32 output to.

@external("env", "log") declare function mathLog(x: f64): f64;
@external("env", "cos") declare function mathCos(x: f64): f64;
@external("env", "sin") declare function mathSin(x: f64): f64;

/** mulberry32's state advance per draw. */
const STEP: u32 = 0x6d2b79f5;
const TWO_32: f64 = 4294967296;
/** 2·Math.PI, as JavaScript's 2 * Math.PI * v multiplies. */
const TWO_PI: f64 = 6.283185307179586;
const LN2: f64 = 0.6931471805599453;
const SQRT2: f64 = 1.4142135623730951;
const TWO_OVER_PI: f64 = 0.6366197723675814;
/** π/2 in two parts: the first 33 bits (so k·PIO2_HI is exact for small k) and the rest. */
const PIO2_HI: f64 = 1.5707963267341256;
const PIO2_LO: f64 = 6.077100506506192e-11;
/** Reduced angles below this use the Math functions (there the rounding of 2π·v matters). */
const NEAR_AXIS: f64 = 0.0009765625;
/** 1 ± 2⁻⁴⁷: the margin of the float32 rounding check. */
const UP: f64 = 1.0000000000000071;
const DOWN: f64 = 0.9999999999999929;

/** mulberry32's output for a state (as JavaScript's `Math.imul` arithmetic: wrapping 32-bit). */
@inline function bitsOf(s: u32): u32 {
  let t: u32 = (s ^ (s >>> 15)) * (s | 1);
  t ^= t + (t ^ (t >>> 7)) * (t | 61);
  return t ^ (t >>> 14);
}

/** log(ku·2⁻³²) for ku ≥ 1: ku = m·2^e with m in [√½, √2), log m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716. */
@inline function logUniform(ku: u32): f64 {
  let e: i32 = 31 - <i32>clz(ku);
  let m = <f64>ku * reinterpret<f64>(<u64>(1023 - e) << 52);
  if (m > SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1) / (m + 1);
  const q = s * s;
  const q2 = q * q;
  const q4 = q2 * q2;
  // 1 + q/3 + … + q¹⁰/21 (the next term < 1e−18 of it), in Estrin's order.
  const a = 1 + q * (1.0 / 3) + q2 * (1.0 / 5 + q * (1.0 / 7));
  const b = 1.0 / 9 + q * (1.0 / 11) + q2 * (1.0 / 13 + q * (1.0 / 15));
  const c = 1.0 / 17 + q * (1.0 / 19) + q2 * (1.0 / 21);
  return <f64>(e - 32) * LN2 + 2 * s * (a + q4 * (b + q4 * c));
}

/** sin x for |x| ≤ π/4: Taylor to x¹⁵ (the next term < 5e−17 of it). */
@inline function sinSmall(x: f64, x2: f64, x4: f64, x8: f64): f64 {
  return x * (1 - x2 * (1.0 / 6) + x4 * (1.0 / 120 - x2 * (1.0 / 5040)) + x8 * (1.0 / 362880 - x2 * (1.0 / 39916800) + x4 * (1.0 / 6227020800 - x2 * (1.0 / 1307674368000))));
}

/** cos x for |x| ≤ π/4: Taylor to x¹⁶. */
@inline function cosSmall(x2: f64, x4: f64, x8: f64): f64 {
  return 1 - x2 * 0.5 + x4 * (1.0 / 24 - x2 * (1.0 / 720)) + x8 * (1.0 / 40320 - x2 * (1.0 / 3628800) + x4 * (1.0 / 479001600 - x2 * (1.0 / 87178291200)) + x8 * (1.0 / 20922789888000));
}

/** Whether every number within a relative 2⁻⁴⁷ of y rounds to the float32 that y rounds to. */
@inline function roundsSafely(y: f64): bool {
  return <f32>(y * UP) == <f32>(y * DOWN);
}

/** The pair of normals of the uniforms ku·2⁻³² (ku ≥ 1) and kv·2⁻³², as float32 at out and out + 4. */
export function pair(ku: u32, kv: u32, out: usize): void {
  const a = TWO_PI * (<f64>kv / TWO_32);
  const k = nearest(a * TWO_OVER_PI);
  const x = a - k * PIO2_HI - k * PIO2_LO;
  if (abs(x) >= NEAR_AXIS) {
    const r = sqrt(-2 * logUniform(ku));
    const x2 = x * x;
    const x4 = x2 * x2;
    const x8 = x4 * x4;
    const sn = sinSmall(x, x2, x4, x8);
    const cs = cosSmall(x2, x4, x8);
    // cos a and sin a from the quadrant k: (cos x, sin x), (−sin x, cos x), (−cos x, −sin x),
    // (sin x, −cos x) for k mod 4 = 0…3, chosen without branches (k is random: a branch on it
    // is mispredicted half the time).
    const quadrant = <i32>k & 3;
    const odd = (quadrant & 1) != 0;
    const c1 = select<f64>(sn, cs, odd);
    const s1 = select<f64>(cs, sn, odd);
    const ca = select<f64>(-c1, c1, ((quadrant + 1) & 2) != 0);
    const sa = select<f64>(-s1, s1, (quadrant & 2) != 0);
    const y0 = r * ca;
    const y1 = r * sa;
    if (roundsSafely(y0) && roundsSafely(y1)) {
      store<f32>(out, <f32>y0);
      store<f32>(out, <f32>y1, 4);
      return;
    }
  }
  const r = sqrt(-2 * mathLog(<f64>ku / TWO_32));
  store<f32>(out, <f32>(r * mathCos(a)));
  store<f32>(out, <f32>(r * mathSin(a)), 4);
}

/**
 * Writes `count` pairs of normals (2·count float32) at `out`, drawing from mulberry32 state
 * `state` as `Random` does (a zero first uniform is drawn again); returns the state after them.
 */
export function pairs(out: usize, count: i32, state: u32): u32 {
  for (let i = 0; i < count; i++) {
    let ku: u32 = 0;
    while (ku == 0) {
      state += STEP;
      ku = bitsOf(state);
    }
    state += STEP;
    pair(ku, bitsOf(state), out + (<usize>i << 3));
  }
  return state;
}
