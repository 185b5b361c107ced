// AssemblyScript source of vaekit's matrix product on the wasm (and cpu) backend: C [M, N] =
// A [M, K] · B [K, N], row-major float32 (`../../nn/gemm.ts` explains why it replaces tfjs-wasm's
// XNNPACK product for dense layers). Compiled to `../gemm-wasm.ts` by `npm run build:wasm`; a
// test checks that the committed binary is this file's.
//
// Blocks of 4 rows × 8 columns are accumulated in eight f32x4 registers over k; 4-column and
// single-row blocks cover the edges and the last N mod 4 columns go element by element. Every element
// is Σ_k a[i, k]·b[k, j] summed in k order in float32, like XNNPACK's: the two products agree
// bit for bit (tested). B is read in place, row by row (no packing): a column panel of 8 stays
// in cache while the rows of A go past it.
//
// The module owns no memory (see `../host-wasm.ts`): it imports the memory holding the tensors
// and writes only C.

@inline function splatA(pa: usize): v128 { return f32x4.splat(load<f32>(pa)); }

/** Rows m0…m0+3, columns n0…n0+7. */
function block4x8(a: usize, b: usize, c: usize, k: i32, n: i32, m0: i32, n0: i32): void {
  const rowB = <usize>n << 2;
  const rowA = <usize>k << 2;
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let pb = b + (<usize>n0 << 2);
  let pa = a + (<usize>(m0 * k) << 2);
  for (let kk = 0; kk < k; kk++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = splatA(pa);
    const a1 = splatA(pa + rowA);
    const a2 = splatA(pa + 2 * rowA);
    const a3 = splatA(pa + 3 * rowA);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0)); c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c10 = f32x4.add(c10, f32x4.mul(a1, b0)); c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c20 = f32x4.add(c20, f32x4.mul(a2, b0)); c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    c30 = f32x4.add(c30, f32x4.mul(a3, b0)); c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    pb += rowB;
    pa += 4;
  }
  const pc = c + (<usize>(m0 * n + n0) << 2);
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc + rowB, c10); v128.store(pc + rowB, c11, 16);
  v128.store(pc + 2 * rowB, c20); v128.store(pc + 2 * rowB, c21, 16);
  v128.store(pc + 3 * rowB, c30); v128.store(pc + 3 * rowB, c31, 16);
}

/** Rows m0…m0+3, columns n0…n0+3. */
function block4x4(a: usize, b: usize, c: usize, k: i32, n: i32, m0: i32, n0: i32): void {
  const rowB = <usize>n << 2;
  const rowA = <usize>k << 2;
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
  let pb = b + (<usize>n0 << 2);
  let pa = a + (<usize>(m0 * k) << 2);
  for (let kk = 0; kk < k; kk++) {
    const b0 = v128.load(pb);
    c0 = f32x4.add(c0, f32x4.mul(splatA(pa), b0));
    c1 = f32x4.add(c1, f32x4.mul(splatA(pa + rowA), b0));
    c2 = f32x4.add(c2, f32x4.mul(splatA(pa + 2 * rowA), b0));
    c3 = f32x4.add(c3, f32x4.mul(splatA(pa + 3 * rowA), b0));
    pb += rowB;
    pa += 4;
  }
  const pc = c + (<usize>(m0 * n + n0) << 2);
  v128.store(pc, c0);
  v128.store(pc + rowB, c1);
  v128.store(pc + 2 * rowB, c2);
  v128.store(pc + 3 * rowB, c3);
}

/** Row m0, columns n0…n0+3. */
function block1x4(a: usize, b: usize, c: usize, k: i32, n: i32, m0: i32, n0: i32): void {
  const rowB = <usize>n << 2;
  let c0 = f32x4.splat(0);
  let pb = b + (<usize>n0 << 2);
  let pa = a + (<usize>(m0 * k) << 2);
  for (let kk = 0; kk < k; kk++) {
    c0 = f32x4.add(c0, f32x4.mul(splatA(pa), v128.load(pb)));
    pb += rowB;
    pa += 4;
  }
  v128.store(c + (<usize>(m0 * n + n0) << 2), c0);
}

/** C = A·B (`work`, the host-kernel work area, is unused). */
export function gemm(a: usize, b: usize, c: usize, work: usize, m: i32, k: i32, n: i32): void {
  const n8 = n & ~7;
  const n4 = n & ~3;
  const m4 = m & ~3;
  for (let n0 = 0; n0 < n8; n0 += 8) {
    for (let m0 = 0; m0 < m4; m0 += 4) block4x8(a, b, c, k, n, m0, n0);
    for (let m0 = m4; m0 < m; m0++) {
      block1x4(a, b, c, k, n, m0, n0);
      block1x4(a, b, c, k, n, m0, n0 + 4);
    }
  }
  if (n4 > n8) {
    for (let m0 = 0; m0 < m4; m0 += 4) block4x4(a, b, c, k, n, m0, n8);
    for (let m0 = m4; m0 < m; m0++) block1x4(a, b, c, k, n, m0, n8);
  }
  // The last N mod 4 columns, element by element (k order), four rows at a time.
  for (let j = n4; j < n; j++) {
    let m0 = 0;
    for (; m0 < m4; m0 += 4) column4(a, b, c, k, n, m0, j);
    for (; m0 < m; m0++) {
      let s: f32 = 0;
      let pa = a + (<usize>(m0 * k) << 2);
      let pb = b + (<usize>j << 2);
      for (let kk = 0; kk < k; kk++) {
        s += load<f32>(pa) * load<f32>(pb);
        pa += 4;
        pb += <usize>n << 2;
      }
      store<f32>(c + (<usize>(m0 * n + j) << 2), s);
    }
  }
}

/** Rows m0…m0+3 of column j (scalar: the columns past the last multiple of 4). */
function column4(a: usize, b: usize, c: usize, k: i32, n: i32, m0: i32, j: i32): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  let pa = a + (<usize>(m0 * k) << 2);
  let pb = b + (<usize>j << 2);
  for (let kk = 0; kk < k; kk++) {
    const bk = load<f32>(pb);
    s0 += load<f32>(pa) * bk;
    s1 += load<f32>(pa + rowA) * bk;
    s2 += load<f32>(pa + 2 * rowA) * bk;
    s3 += load<f32>(pa + 3 * rowA) * bk;
    pa += 4;
    pb += rowB;
  }
  const pc = c + (<usize>(m0 * n + j) << 2);
  store<f32>(pc, s0);
  store<f32>(pc + rowB, s1);
  store<f32>(pc + 2 * rowB, s2);
  store<f32>(pc + 3 * rowB, s3);
}
