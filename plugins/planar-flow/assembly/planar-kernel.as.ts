// AssemblyScript source of the planar-stack kernels (`../planar-kernel.ts` documents the math,
// the layouts and the gradient of the constraint). Compiled to `../planar-wasm.ts` by
// `npm run build:wasm`; a test checks that the committed binary is this file's.
//
// The module owns no memory: it imports the memory holding the tensors (tfjs-wasm's heap, or
// a private memory the caller copies into) and must not write anywhere but the outputs and the
// float64 work area it is given. So: no data segments, no allocation, and exp/log/tanh come from
// the host (AssemblyScript's own Math keeps lookup tables in a data segment).
//
// Pointers are byte offsets. float32 tensors are read two elements at a time, widened to float64
// lanes (f64x2), so all arithmetic is float64, as in the reference; results are rounded to
// float32 when stored.

@external("env", "tanh") declare function tanh(x: f64): f64;
@external("env", "log") declare function log(x: f64): f64;
@external("env", "log1p") declare function log1p(x: f64): f64;
@external("env", "exp") declare function exp(x: f64): f64;

/** Two float32 at element i of `ptr`, as two float64 lanes. */
@inline function ld2(ptr: usize, i: i32): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(ptr + (<usize>i << 2)));
}
/** Stores two float64 lanes as two float32 at element i of `ptr`. */
@inline function st2(ptr: usize, i: i32, v: v128): void {
  v128.store64_lane(ptr + (<usize>i << 2), f32x4.demote_f64x2_zero(v), 0);
}
@inline function ld(ptr: usize, i: i32): f64 {
  return <f64>load<f32>(ptr + (<usize>i << 2));
}
@inline function st(ptr: usize, i: i32, v: f64): void {
  store<f32>(ptr + (<usize>i << 2), <f32>v);
}
/** float64 work area: two lanes / one value at element i. */
@inline function ld8x2(ptr: usize, i: i32): v128 {
  return v128.load(ptr + (<usize>i << 3));
}
@inline function st8x2(ptr: usize, i: i32, v: v128): void {
  v128.store(ptr + (<usize>i << 3), v);
}
@inline function ld8(ptr: usize, i: i32): f64 {
  return load<f64>(ptr + (<usize>i << 3));
}
@inline function st8(ptr: usize, i: i32, v: f64): void {
  store<f64>(ptr + (<usize>i << 3), v);
}
@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

function softplus(a: f64): f64 {
  return a > 0 ? a + log1p(exp(-a)) : log1p(exp(a));
}

function sigmoid(a: f64): f64 {
  if (a >= 0) return 1 / (1 + exp(-a));
  const e = exp(a);
  return e / (1 + e);
}

/**
 * The S steps' constraint [û, s, c, a, ω, υ] `[S, D + 5]` of parameter row `row` into `con`;
 * the raw parameters are p[row] + bias.
 */
function constrainRow(p: usize, bias: usize, row: i32, steps: i32, d: i32, floor: f64, eps: f64, con: usize): void {
  const width = 2 * d + 1;
  const cw = d + 5;
  const even = d & ~1;
  for (let j = 0; j < steps; j++) {
    const o = (row * steps + j) * width;
    const ob = j * width;
    const oc = (row * steps + j) * cw;
    let av = f64x2.splat(0);
    let wwv = f64x2.splat(0);
    let uuv = f64x2.splat(0);
    for (let i = 0; i < even; i += 2) {
      const u = f64x2.add(ld2(p, o + i), ld2(bias, ob + i));
      const w = f64x2.add(ld2(p, o + d + i), ld2(bias, ob + d + i));
      av = f64x2.add(av, f64x2.mul(w, u));
      wwv = f64x2.add(wwv, f64x2.mul(w, w));
      uuv = f64x2.add(uuv, f64x2.mul(u, u));
    }
    let a = hsum(av);
    let ww = hsum(wwv);
    let uu = hsum(uuv);
    for (let i = even; i < d; i++) {
      const u = ld(p, o + i) + ld(bias, ob + i);
      const w = ld(p, o + d + i) + ld(bias, ob + d + i);
      a += w * u;
      ww += w * w;
      uu += u * u;
    }
    const sM = softplus(a) + floor + eps * Math.sqrt(ww * uu + 1e-30);
    const c: f64 = ww > 0 ? (sM - 1 - a) / ww : 0;
    const cv = f64x2.splat(c);
    for (let i = 0; i < even; i += 2) {
      const u = f64x2.add(ld2(p, o + i), ld2(bias, ob + i));
      const w = f64x2.add(ld2(p, o + d + i), ld2(bias, ob + d + i));
      st2(con, oc + i, f64x2.add(u, f64x2.mul(cv, w)));
    }
    for (let i = even; i < d; i++) {
      st(con, oc + i, ld(p, o + i) + ld(bias, ob + i) + c * (ld(p, o + d + i) + ld(bias, ob + d + i)));
    }
    st(con, oc + d, ww > 0 ? sM : 1);
    st(con, oc + d + 1, c);
    st(con, oc + d + 2, a);
    st(con, oc + d + 3, ww);
    st(con, oc + d + 4, uu);
  }
}

/**
 * Forward: z₀ `[K, B, D]`, p `[P, S, 2D + 1]`, bias `[S, 2D + 1]` → out `[K, B, D + S]`,
 * con `[P, S, D + 5]`, trace `[K, B, S, D + 1]`. `work`: D float64.
 */
export function forward(
  z: usize, p: usize, bias: usize, out: usize, con: usize, trace: usize, work: usize,
  k: i32, b: i32, d: i32, steps: i32, rows: i32, floor: f64, eps: f64,
): void {
  const width = 2 * d + 1;
  const cw = d + 5;
  const even = d & ~1;
  const y = work;
  for (let row = 0; row < rows; row++) {
    constrainRow(p, bias, row, steps, d, floor, eps, con);
    // The (sample, row) pairs kb = k·B + b using parameter row `row` (every pair when P = 1).
    const uses = rows == 1 ? k * b : k;
    for (let use = 0; use < uses; use++) {
      const kb = rows == 1 ? use : use * b + row;
      const oz = kb * d;
      for (let i = 0; i < even; i += 2) st8x2(y, i, ld2(z, oz + i));
      for (let i = even; i < d; i++) st8(y, i, ld(z, oz + i));
      const o = kb * (d + steps);
      for (let j = 0; j < steps; j++) {
        const pw = (row * steps + j) * width + d;
        const bw = j * width + d;
        const oc = (row * steps + j) * cw;
        const ot = (kb * steps + j) * (d + 1);
        let prev = f64x2.splat(0);
        for (let i = 0; i < even; i += 2) {
          const yi = ld8x2(y, i);
          st2(trace, ot + i, yi);
          prev = f64x2.add(prev, f64x2.mul(f64x2.add(ld2(p, pw + i), ld2(bias, bw + i)), yi));
        }
        let pre = ld(p, pw + d) + ld(bias, bw + d) + hsum(prev);
        for (let i = even; i < d; i++) {
          const yi = ld8(y, i);
          st(trace, ot + i, yi);
          pre += (ld(p, pw + i) + ld(bias, bw + i)) * yi;
        }
        const t = tanh(pre);
        st(trace, ot + d, t);
        const tv = f64x2.splat(t);
        for (let i = 0; i < even; i += 2) st8x2(y, i, f64x2.add(ld8x2(y, i), f64x2.mul(tv, ld2(con, oc + i))));
        for (let i = even; i < d; i++) st8(y, i, ld8(y, i) + t * ld(con, oc + i));
        const t2 = t * t;
        st(out, o + d + j, log(ld(con, oc + d) * (1 - t2) + t2));
      }
      for (let i = 0; i < even; i += 2) st2(out, o + i, ld8x2(y, i));
      for (let i = even; i < d; i++) st(out, o + i, ld8(y, i));
    }
  }
}

/**
 * Backward: p, bias, con, trace (as above) and dy `[K, B, D + S]` → dz₀ `[K, B, D]`,
 * dp `[P, S, 2D + 1]`, dbias `[S, 2D + 1]` (dp summed over parameter rows). `work` (float64):
 * G_û [S·D], the chain's part of ∂L/∂w [S·D], G_s [S], ∂L/∂b [S], g [D], dbias [S·(2D + 1)].
 */
export function backward(
  p: usize, bias: usize, con: usize, trace: usize, dy: usize, dz: usize, dp: usize, dbias: usize, work: usize,
  k: i32, b: i32, d: i32, steps: i32, rows: i32, eps: f64,
): void {
  const width = 2 * d + 1;
  const cw = d + 5;
  const even = d & ~1;
  const sd = steps * d;
  const gUHat = work;
  const gWChain = gUHat + (<usize>sd << 3);
  const gS = gWChain + (<usize>sd << 3);
  const gB = gS + (<usize>steps << 3);
  const g = gB + (<usize>steps << 3);
  const gBias = g + (<usize>d << 3);
  memory.fill(gBias, 0, <usize>(steps * width) << 3);
  for (let row = 0; row < rows; row++) {
    memory.fill(work, 0, <usize>(2 * sd + 2 * steps) << 3);
    const uses = rows == 1 ? k * b : k;
    for (let use = 0; use < uses; use++) {
      const kb = rows == 1 ? use : use * b + row;
      const o = kb * (d + steps);
      for (let i = 0; i < even; i += 2) st8x2(g, i, ld2(dy, o + i));
      for (let i = even; i < d; i++) st8(g, i, ld(dy, o + i));
      for (let j = steps - 1; j >= 0; j--) {
        const pw = (row * steps + j) * width + d;
        const bw = j * width + d;
        const oc = (row * steps + j) * cw;
        const ot = (kb * steps + j) * (d + 1);
        const t = ld(trace, ot + d);
        const t2 = t * t;
        const sech2 = 1 - t2;
        const sj = ld(con, oc + d);
        const det = sj * sech2 + t2;
        const l = ld(dy, o + d + j);
        let dotv = f64x2.splat(0);
        for (let i = 0; i < even; i += 2) dotv = f64x2.add(dotv, f64x2.mul(ld2(con, oc + i), ld8x2(g, i)));
        let dot = hsum(dotv);
        for (let i = even; i < d; i++) dot += ld(con, oc + i) * ld8(g, i);
        const r = sech2 * (dot + (l * 2 * t * (1 - sj)) / det);
        const jd = j * d;
        const tv = f64x2.splat(t);
        const rv = f64x2.splat(r);
        for (let i = 0; i < even; i += 2) {
          const gi = ld8x2(g, i);
          st8x2(gUHat, jd + i, f64x2.add(ld8x2(gUHat, jd + i), f64x2.mul(gi, tv)));
          st8x2(gWChain, jd + i, f64x2.add(ld8x2(gWChain, jd + i), f64x2.mul(rv, ld2(trace, ot + i))));
          st8x2(g, i, f64x2.add(gi, f64x2.mul(rv, f64x2.add(ld2(p, pw + i), ld2(bias, bw + i)))));
        }
        for (let i = even; i < d; i++) {
          const gi = ld8(g, i);
          st8(gUHat, jd + i, ld8(gUHat, jd + i) + gi * t);
          st8(gWChain, jd + i, ld8(gWChain, jd + i) + r * ld(trace, ot + i));
          st8(g, i, gi + r * (ld(p, pw + i) + ld(bias, bw + i)));
        }
        st8(gS, j, ld8(gS, j) + (l * sech2) / det);
        st8(gB, j, ld8(gB, j) + r);
      }
      for (let i = 0; i < even; i += 2) st2(dz, kb * d + i, ld8x2(g, i));
      for (let i = even; i < d; i++) st(dz, kb * d + i, ld8(g, i));
    }
    // Through the constraint û = u + c·w, s = δ + softplus(a) to the raw u, w.
    for (let j = 0; j < steps; j++) {
      const o = (row * steps + j) * width;
      const ob = j * width;
      const oc = (row * steps + j) * cw;
      const c = ld(con, oc + d + 1);
      const ww = ld(con, oc + d + 3);
      const jd = j * d;
      let gA: f64 = 0;
      let gWw: f64 = 0;
      let gUu: f64 = 0;
      if (ww > 0) {
        const uu = ld(con, oc + d + 4);
        let gCv = f64x2.splat(0);
        for (let i = 0; i < even; i += 2) {
          gCv = f64x2.add(gCv, f64x2.mul(ld8x2(gUHat, jd + i), f64x2.add(ld2(p, o + d + i), ld2(bias, ob + d + i))));
        }
        let gC = hsum(gCv);
        for (let i = even; i < d; i++) gC += ld8(gUHat, jd + i) * (ld(p, o + d + i) + ld(bias, ob + d + i));
        const root = Math.sqrt(ww * uu + 1e-30);
        const dsdw = (eps * uu) / (2 * root);
        const dsdu = (eps * ww) / (2 * root);
        const sig = sigmoid(ld(con, oc + d + 2));
        const gs = ld8(gS, j);
        gA = (gC * (sig - 1)) / ww + gs * sig;
        gWw = (gC * (dsdw - c)) / ww + gs * dsdw;
        gUu = (gC * dsdu) / ww + gs * dsdu;
      }
      const cv = f64x2.splat(c);
      const av = f64x2.splat(gA);
      const uv = f64x2.splat(2 * gUu);
      const wv = f64x2.splat(2 * gWw);
      for (let i = 0; i < even; i += 2) {
        const u = f64x2.add(ld2(p, o + i), ld2(bias, ob + i));
        const w = f64x2.add(ld2(p, o + d + i), ld2(bias, ob + d + i));
        const gu = ld8x2(gUHat, jd + i);
        const du = f64x2.add(gu, f64x2.add(f64x2.mul(av, w), f64x2.mul(uv, u)));
        const dw = f64x2.add(f64x2.add(f64x2.mul(cv, gu), f64x2.mul(av, u)), f64x2.add(f64x2.mul(wv, w), ld8x2(gWChain, jd + i)));
        st2(dp, o + i, du);
        st2(dp, o + d + i, dw);
        st8x2(gBias, ob + i, f64x2.add(ld8x2(gBias, ob + i), du));
        st8x2(gBias, ob + d + i, f64x2.add(ld8x2(gBias, ob + d + i), dw));
      }
      for (let i = even; i < d; i++) {
        const u = ld(p, o + i) + ld(bias, ob + i);
        const w = ld(p, o + d + i) + ld(bias, ob + d + i);
        const gu = ld8(gUHat, jd + i);
        const du = gu + gA * w + 2 * gUu * u;
        const dw = c * gu + gA * u + 2 * gWw * w + ld8(gWChain, jd + i);
        st(dp, o + i, du);
        st(dp, o + d + i, dw);
        st8(gBias, ob + i, ld8(gBias, ob + i) + du);
        st8(gBias, ob + d + i, ld8(gBias, ob + d + i) + dw);
      }
      st(dp, o + 2 * d, ld8(gB, j));
      st8(gBias, ob + 2 * d, ld8(gBias, ob + 2 * d) + ld8(gB, j));
    }
  }
  for (let i = 0; i < steps * width; i++) st(dbias, i, ld8(gBias, i));
}
