// AssemblyScript source of the dense layers' bias kernels, with tanh or alone (`../../nn/bias-tanh.ts`
// documents the math). Compiled to `../bias-tanh-wasm.ts` by `npm run build:wasm`; a test checks
// that the committed binary is this file's.
//
// The module owns no memory (see `../host-wasm.ts`): it imports the memory holding the tensors and
// writes only its outputs and its work area (the vector constants). tanh is computed here in
// float32x4 (AssemblyScript's Math keeps tables in a data segment): tanh(a) = −m/(2 + m),
// m = e^−2a − 1 for a = |v|, with e^y − 1 as 2^k·q(r) + (2^k − 1), y = k·ln2 + r, |r| ≤ ln2/2,
// q(r) = e^r − 1 by its Taylor series to r^7 (relative error < 2e−7; no cancellation near 0, where
// k = 0 and the result is q itself). The last N mod 4 columns go through the same code on a partly
// filled vector.

const INV_LN2: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const SHIFTER: f32 = 12582912; // 1.5·2^23

// The vector constants live in the work area (`setConstants`, once per call) and are loaded from
// there: V8 does not hoist a v128.const out of a loop but builds it at every use (loading them
// instead made these loops 25–35 % faster). Slots of 16 bytes:
const MINUS_TWO = 0;
const MINUS_87 = 1;
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
const TWO = 14;
const SIGN = 15;
/** Number of 16-byte constant slots (the host sizes the work area to match: `BIAS_TANH_CONSTANTS` in `../../nn/bias-tanh.ts`). */
const CONSTANTS = 16;

/** Writes the vector constants at c (CONSTANTS slots). */
function setConstants(c: usize): void {
  v128.store(c + (MINUS_TWO << 4), f32x4.splat(-2));
  v128.store(c + (MINUS_87 << 4), f32x4.splat(-87));
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
  v128.store(c + (TWO << 4), f32x4.splat(2));
  v128.store(c + (SIGN << 4), i32x4.splat(0x80000000));
}

/** The constant in slot i. */
@inline function K(c: usize, i: usize): v128 {
  return v128.load(c + (i << 4));
}

/** tanh of four lanes. */
@inline function tanh4(v: v128, c: usize): v128 {
  const a = f32x4.abs(v);
  const y = f32x4.pmax(f32x4.mul(a, K(c, MINUS_TWO)), K(c, MINUS_87)); // pmax: one instruction (max's NaN and ±0 rules cost several)
  // k = round(y/ln2) by the 1.5·2^23 shifter: the sum's low mantissa bits hold k (|k| ≤ 126).
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
  const q = f32x4.mul(r, p);
  const scale = i32x4.shl(i32x4.add(kBits, K(c, EXP_BIAS)), 23); // 2^k: the shifter's bits (0x4B400000) vanish in the shift
  const m = f32x4.add(f32x4.mul(scale, q), f32x4.sub(scale, one));
  // tanh(a) ≥ 0 (abs: −m is −0 at a = 0), with the sign of v.
  const t = f32x4.abs(f32x4.div(f32x4.neg(m), f32x4.add(K(c, TWO), m)));
  return v128.or(t, v128.and(v, K(c, SIGN)));
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

/** Address of element i of a float32 array at ptr. */
@inline function at(ptr: usize, i: i32): usize {
  return ptr + (<usize>i << 2);
}

// Each row runs its whole vectors in a loop of plain loads and stores, then its last N mod 4
// columns (if any) through load4/store4: the same operations per element either way (a loop that
// chose between the two at every vector ran 2–3× slower on the memory-bound kernels).

/** y[i, j] = tanh(x[i, j] + b[j]) for x [m, n] (`work`: CONSTANTS slots). */
export function forward(x: usize, b: usize, y: usize, work: usize, m: i32, n: i32): void {
  setConstants(work);
  const n4 = n & ~3;
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let j = 0; j < n4; j += 4) v128.store(at(y, row + j), tanh4(f32x4.add(v128.load(at(x, row + j)), v128.load(at(b, j))), work));
    if (n4 < n) store4(y, row + n4, tanh4(f32x4.add(load4(x, row + n4, n - n4), load4(b, n4, n - n4)), work), n - n4);
  }
}

/** dx[i, j] = dy[i, j]·(1 − y[i, j]²) (float32, in this order) and db[j] = Σ_i dx[i, j] in i order (`work` unused). */
export function backward(y: usize, dy: usize, dx: usize, db: usize, work: usize, m: i32, n: i32): void {
  const one = f32x4.splat(1);
  const n4 = n & ~3;
  for (let j = 0; j < n; j += 4) store4(db, j, f32x4.splat(0), min(4, n - j));
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let j = 0; j < n4; j += 4) {
      const yv = v128.load(at(y, row + j));
      const d = f32x4.mul(v128.load(at(dy, row + j)), f32x4.sub(one, f32x4.mul(yv, yv)));
      v128.store(at(dx, row + j), d);
      v128.store(at(db, j), f32x4.add(v128.load(at(db, j)), d));
    }
    if (n4 < n) {
      const count = n - n4;
      const yv = load4(y, row + n4, count);
      const d = f32x4.mul(load4(dy, row + n4, count), f32x4.sub(one, f32x4.mul(yv, yv)));
      store4(dx, row + n4, d, count);
      store4(db, n4, f32x4.add(load4(db, n4, count), d), count);
    }
  }
}

/** y[i, j] = x[i, j] + b[j] for x [m, n] (`work` unused). */
export function forwardLinear(x: usize, b: usize, y: usize, work: usize, m: i32, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let j = 0; j < n4; j += 4) v128.store(at(y, row + j), f32x4.add(v128.load(at(x, row + j)), v128.load(at(b, j))));
    if (n4 < n) store4(y, row + n4, f32x4.add(load4(x, row + n4, n - n4), load4(b, n4, n - n4)), n - n4);
  }
}

/** db[j] = Σ_i dy[i, j] in i order, for dy [m, n] (`work` unused). */
export function biasGradient(dy: usize, db: usize, work: usize, m: i32, n: i32): void {
  const n4 = n & ~3;
  for (let j = 0; j < n; j += 4) store4(db, j, f32x4.splat(0), min(4, n - j));
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let j = 0; j < n4; j += 4) v128.store(at(db, j), f32x4.add(v128.load(at(db, j)), v128.load(at(dy, row + j))));
    if (n4 < n) store4(db, n4, f32x4.add(load4(db, n4, n - n4), load4(dy, row + n4, n - n4)), n - n4);
  }
}
