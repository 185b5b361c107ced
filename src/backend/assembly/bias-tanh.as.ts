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

import { EXP_BIAS, EXP_SLOTS, K, ONE, at, expm1Factor, load4, remainderLn2, setExpConstants, shiftedK, store4 } from './simd';

// Vector constants in the work area (see `simd.as.ts`): the e^x helpers' EXP_SLOTS, then these.
const MINUS_TWO = EXP_SLOTS;
const MINUS_87 = EXP_SLOTS + 1;
const TWO = EXP_SLOTS + 2;
const SIGN = EXP_SLOTS + 3;
/** Number of 16-byte constant slots (the host sizes the work area to match: `BIAS_TANH_CONSTANTS` in `../../nn/bias-tanh.ts`). */
const CONSTANTS = EXP_SLOTS + 4;

/** Writes the vector constants at c (CONSTANTS slots). */
function setConstants(c: usize): void {
  setExpConstants(c);
  v128.store(c + (MINUS_TWO << 4), f32x4.splat(-2));
  v128.store(c + (MINUS_87 << 4), f32x4.splat(-87));
  v128.store(c + (TWO << 4), f32x4.splat(2));
  v128.store(c + (SIGN << 4), i32x4.splat(0x80000000));
}

/** tanh of four lanes. */
@inline function tanh4(v: v128, c: usize): v128 {
  const a = f32x4.abs(v);
  const y = f32x4.pmax(f32x4.mul(a, K(c, MINUS_TWO)), K(c, MINUS_87)); // pmax: one instruction (max's NaN and ±0 rules cost several)
  const kBits = shiftedK(y, c); // |k| ≤ 126
  const r = remainderLn2(y, kBits, c);
  const q = f32x4.mul(r, expm1Factor(r, c));
  const scale = i32x4.shl(i32x4.add(kBits, K(c, EXP_BIAS)), 23); // 2^k: the shifter's bits (0x4B400000) vanish in the shift
  const m = f32x4.add(f32x4.mul(scale, q), f32x4.sub(scale, K(c, ONE)));
  // tanh(a) ≥ 0 (abs: −m is −0 at a = 0), with the sign of v.
  const t = f32x4.abs(f32x4.div(f32x4.neg(m), f32x4.add(K(c, TWO), m)));
  return v128.or(t, v128.and(v, K(c, SIGN)));
}

// Each row runs its whole vectors in a loop of plain loads and stores, then its last N mod 4
// columns (if any) through load4/store4: the same operations per element either way (a loop that
// chose between the two at every vector ran 2–3× slower on the memory-bound kernels).

/** y[i, j] = tanh(x[i, j] + b[j]) for x [m, n] (`work`: CONSTANTS slots). */
export function forward(x: usize, b: usize, y: usize, work: usize, m: i32, n: i32): void {
  forwardColumns(x, b, y, work, m, n, 0, n);
}

/**
 * `forward` in columns j0 … j1 − 1 only (threads take ranges of columns: the same bits; j0 a
 * multiple of 4). Every call writes the same constants into `work`.
 */
export function forwardColumns(x: usize, b: usize, y: usize, work: usize, m: i32, n: i32, j0: i32, j1: i32): void {
  setConstants(work);
  const n4 = j0 + ((j1 - j0) & ~3);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let j = j0; j < n4; j += 4) v128.store(at(y, row + j), tanh4(f32x4.add(v128.load(at(x, row + j)), v128.load(at(b, j))), work));
    if (n4 < j1) store4(y, row + n4, tanh4(f32x4.add(load4(x, row + n4, j1 - n4), load4(b, n4, j1 - n4)), work), j1 - n4);
  }
}

/** dx[i, j] = dy[i, j]·(1 − y[i, j]²) (float32, in this order) and db[j] = Σ_i dx[i, j] in i order (`work` unused). */
export function backward(y: usize, dy: usize, dx: usize, db: usize, work: usize, m: i32, n: i32): void {
  backwardColumns(y, dy, dx, db, work, m, n, 0, n);
}

/** `backward` in columns j0 … j1 − 1 only (each db[j] still sums its column in i order: the same bits; j0 a multiple of 4). */
export function backwardColumns(y: usize, dy: usize, dx: usize, db: usize, work: usize, m: i32, n: i32, j0: i32, j1: i32): void {
  const one = f32x4.splat(1);
  const n4 = j0 + ((j1 - j0) & ~3);
  for (let j = j0; j < j1; j += 4) store4(db, j, f32x4.splat(0), min(4, j1 - j));
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let j = j0; j < n4; j += 4) {
      const yv = v128.load(at(y, row + j));
      const d = f32x4.mul(v128.load(at(dy, row + j)), f32x4.sub(one, f32x4.mul(yv, yv)));
      v128.store(at(dx, row + j), d);
      v128.store(at(db, j), f32x4.add(v128.load(at(db, j)), d));
    }
    if (n4 < j1) {
      const count = j1 - n4;
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
