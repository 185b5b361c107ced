// AssemblyScript source of the dense layers' bias kernels, with tanh or alone (`../../nn/bias-tanh.ts`
// documents the math). Compiled to `../bias-tanh-wasm.ts` by `npm run build:wasm`; a test checks
// that the committed binary is this file's.
//
// The module owns no memory (see `../host-wasm.ts`): it imports the memory holding the tensors
// and writes only its outputs. tanh is computed here in float32x4 (AssemblyScript's Math keeps
// tables in a data segment): tanh(a) = −m/(2 + m), m = e^−2a − 1 for a = |v|, with e^y − 1 as
// 2^k·q(r) + (2^k − 1), y = k·ln2 + r, |r| ≤ ln2/2, q(r) = e^r − 1 by its Taylor series to r^7
// (relative error < 2e−7; no cancellation near 0, where k = 0 and the result is q itself).
// The last N mod 4 columns go through the same code on a partly filled vector.

const INV_LN2: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

/** tanh of four lanes. */
@inline function tanh4(v: v128): v128 {
  const a = f32x4.abs(v);
  const y = f32x4.max(f32x4.mul(a, f32x4.splat(-2)), f32x4.splat(-87));
  const k = f32x4.floor(f32x4.add(f32x4.mul(y, f32x4.splat(INV_LN2)), f32x4.splat(0.5)));
  const r = f32x4.sub(f32x4.sub(y, f32x4.mul(k, f32x4.splat(LN2_HI))), f32x4.mul(k, f32x4.splat(LN2_LO)));
  const one = f32x4.splat(1);
  let p = f32x4.add(one, f32x4.mul(r, f32x4.splat(<f32>(1.0 / 7))));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, f32x4.splat(<f32>(1.0 / 6))), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, f32x4.splat(<f32>(1.0 / 5))), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, f32x4.splat(<f32>(1.0 / 4))), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, f32x4.splat(<f32>(1.0 / 3))), p));
  p = f32x4.add(one, f32x4.mul(f32x4.mul(r, f32x4.splat(<f32>(1.0 / 2))), p));
  const q = f32x4.mul(r, p);
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  const m = f32x4.add(f32x4.mul(scale, q), f32x4.sub(scale, one));
  // tanh(a) ≥ 0 (abs: −m is −0 at a = 0), with the sign of v.
  const t = f32x4.abs(f32x4.div(f32x4.neg(m), f32x4.add(f32x4.splat(2), m)));
  return v128.or(t, v128.and(v, i32x4.splat(0x80000000)));
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

/** y[i, j] = tanh(x[i, j] + b[j]) for x [m, n] (`work` unused). */
export function forward(x: usize, b: usize, y: usize, work: usize, m: i32, n: i32): void {
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let j = 0; j < n; j += 4) {
      const count = min(4, n - j);
      store4(y, row + j, tanh4(f32x4.add(load4(x, row + j, count), load4(b, j, count))), count);
    }
  }
}

/** dx[i, j] = dy[i, j]·(1 − y[i, j]²) (float32, in this order) and db[j] = Σ_i dx[i, j] in i order (`work` unused). */
export function backward(y: usize, dy: usize, dx: usize, db: usize, work: usize, m: i32, n: i32): void {
  const one = f32x4.splat(1);
  for (let j = 0; j < n; j += 4) store4(db, j, f32x4.splat(0), min(4, n - j));
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let j = 0; j < n; j += 4) {
      const count = min(4, n - j);
      const yv = load4(y, row + j, count);
      const d = f32x4.mul(load4(dy, row + j, count), f32x4.sub(one, f32x4.mul(yv, yv)));
      store4(dx, row + j, d, count);
      store4(db, j, f32x4.add(load4(db, j, count), d), count);
    }
  }
}

/** y[i, j] = x[i, j] + b[j] for x [m, n] (`work` unused). */
export function forwardLinear(x: usize, b: usize, y: usize, work: usize, m: i32, n: i32): void {
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let j = 0; j < n; j += 4) {
      const count = min(4, n - j);
      store4(y, row + j, f32x4.add(load4(x, row + j, count), load4(b, j, count)), count);
    }
  }
}

/** db[j] = Σ_i dy[i, j] in i order, for dy [m, n] (`work` unused). */
export function biasGradient(dy: usize, db: usize, work: usize, m: i32, n: i32): void {
  for (let j = 0; j < n; j += 4) store4(db, j, f32x4.splat(0), min(4, n - j));
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let j = 0; j < n; j += 4) {
      const count = min(4, n - j);
      store4(db, j, f32x4.add(load4(db, j, count), load4(dy, row + j, count)), count);
    }
  }
}
