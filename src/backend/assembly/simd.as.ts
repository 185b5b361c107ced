// AssemblyScript helpers shared by the core's SIMD kernels (`bias-tanh.as.ts`, `normal.as.ts`):
// each module that imports this file gets its own compiled copy (`compileAssemblyScript` reads a
// relative import's `.as.ts` file next to the source), so the modules still own no memory.
//
// Vector constants live in the kernel's work area and are loaded from there: V8 does not hoist a
// v128.const out of a loop but builds it at every use (loading them instead made the loops 25–35 %
// faster). Slots of 16 bytes; the first EXP_SLOTS are the e^x reduction's and polynomial's
// (`setExpConstants`), a module's own follow.

const INV_LN2: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const SHIFTER: f32 = 12582912; // 1.5·2^23

export const INV_LN2_4 = 0;
export const SHIFTER_4 = 1;
export const LN2_HI_4 = 2;
export const LN2_LO_4 = 3;
export const ONE = 4;
export const C7 = 5;
export const C6 = 6;
export const C5 = 7;
export const C4 = 8;
export const C3 = 9;
export const C2 = 10;
export const EXP_BIAS = 11;
/** Slots written by `setExpConstants`; a module's own slots start here. */
export const EXP_SLOTS = 12;

/** Writes the EXP_SLOTS constants of the e^x helpers below at c. */
export function setExpConstants(c: usize): void {
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
}

/** The constant in slot i. */
@inline export function K(c: usize, i: usize): v128 {
  return v128.load(c + (i << 4));
}

/**
 * For y = k·ln2 + r (|k| < 2^22): k + 1.5·2^23 as float32 — k = round(y/ln2) by the shifter, whose
 * sum's low mantissa bits hold k (subtract SHIFTER_4 for k as a float, or its bits for k as an int).
 */
@inline export function shiftedK(y: v128, c: usize): v128 {
  return f32x4.add(f32x4.mul(y, K(c, INV_LN2_4)), K(c, SHIFTER_4));
}

/** r = y − k·ln2 (Cody–Waite: ln2 in two parts, k·LN2_HI exact), |r| ≤ ln2/2, for kBits = shiftedK(y). */
@inline export function remainderLn2(y: v128, kBits: v128, c: usize): v128 {
  const k = f32x4.sub(kBits, K(c, SHIFTER_4));
  return f32x4.sub(f32x4.sub(y, f32x4.mul(k, K(c, LN2_HI_4))), f32x4.mul(k, K(c, LN2_LO_4)));
}

/** p(r) = 1 + r/2·(1 + r/3·(… (1 + r/7))), so that r·p = e^r − 1 by its Taylor series to r^7 (relative error < 2e−7 for |r| ≤ ln2/2). */
@inline export function expm1Factor(r: v128, c: usize): v128 {
  const one = K(c, ONE);
  let p = f32x4.add(one, f32x4.mul(r, K(c, C7)));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C6)), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C5)), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C4)), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C3)), p));
  return f32x4.add(one, f32x4.mul(f32x4.mul(r, K(c, C2)), p));
}

/** Address of element i of a float32 array at ptr. */
@inline export function at(ptr: usize, i: i32): usize {
  return ptr + (<usize>i << 2);
}

/** Four floats at element i (only the first `count` read when count < 4; the rest are 0). */
@inline export function load4(ptr: usize, i: i32, count: i32): v128 {
  if (count >= 4) return v128.load(at(ptr, i));
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(at(ptr, i)));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(at(ptr, i + 1)));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(at(ptr, i + 2)));
  return v;
}

/** Stores the first `count` lanes of v at element i (all four when count ≥ 4). */
@inline export function store4(ptr: usize, i: i32, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(at(ptr, i), v);
    return;
  }
  store<f32>(at(ptr, i), f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(at(ptr, i + 1), f32x4.extract_lane(v, 1));
  if (count > 2) store<f32>(at(ptr, i + 2), f32x4.extract_lane(v, 2));
}
