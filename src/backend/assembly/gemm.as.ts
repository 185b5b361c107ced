// AssemblyScript source of vaekit's matrix product on the wasm (and cpu) backend:
//
//   C [M, N] = op(A) · op(B),   op(A) = A [M, K] or Aᵀ (A stored [K, M]),   op(B) = B [K, N] or Bᵀ (B stored [N, K]),
//
// row-major float32 (`../../nn/gemm.ts` explains why it replaces tfjs-wasm's XNNPACK product).
// Compiled to `../gemm-wasm.ts` by `npm run build:wasm`; a test checks that the committed binary
// is this file's.
//
// op(B) is first packed into the work area as column panels of 8: panel p holds op(B)[k, 8p…8p+7]
// for k = 0…K−1, contiguous, zero-padded past column N (packing is O(K·N), the product O(M·K·N);
// it also makes a transposed B cost nothing extra). Then, for chunks of rows of A small enough
// to stay in L2, every panel is swept by blocks of 4 rows × 8 columns accumulated in eight f32x4
// registers over k (each k: two panel loads, four broadcasts of an element of A, 32 lanes of
// multiply and add); rows past the last multiple of 4 go one at a time. (V8 keeps 4 × 8 in
// registers; 5 × 8 and 6 × 8 spill and run at half speed or less.) op(A) is read in place
// through strides (a transposed A changes them, and has a long K cut into blocks: KC). Every
// element is Σ_k a[i, k]·b[k, j] summed in k order in float32 with separate multiply and add,
// like XNNPACK's: the product gives tfjs's bits (tested), with either operand transposed.
//
// The module owns no memory (see `../host-wasm.ts`): it imports the memory holding the tensors
// and writes only C and the work area.

/** Rows of A per chunk: 4·24, so that a chunk of A (≤ 96·K floats) stays in L2 while the panels go past. */
const CHUNK: i32 = 96;

/**
 * Most k per pass with a transposed A: a longer K is cut into equal blocks of ≤ KC, each block
 * adding to the sums the previous ones stored in C. A transposed A is read down its columns, a
 * cache line per k, so a 4×8 block's K reads of A are K lines; blocked, a pass reads ≤ KC lines
 * of A and ≤ KC·32 bytes of the panel, which stay in L1 (K = 1000, a dense layer's dW = Xᵀ·dY at
 * batch 1000: 4–10 % faster; blocking a plain A, read along its rows, was 2–5 % slower). Each sum
 * still runs over k in order in float32 (C holds the exact float32 partial sum), so the bits are
 * the unblocked product's.
 */
const KC: i32 = 128;

/** Packs panels q0…q1−1 of op(B) (K × N; `trans`: B stored [N, K]) into panels of 8 columns at `p`, zero-padded. */
function pack(b: usize, p: usize, k: i32, n: i32, trans: i32, q0: i32, q1: i32): void {
  for (let q = q0; q < q1; q++) {
    const n0 = q << 3;
    const width = min(8, n - n0);
    let dst = p + ((<usize>q * <usize>k) << 5);
    if (!trans && width == 8) {
      let src = b + (<usize>n0 << 2);
      const row = <usize>n << 2;
      for (let kk = 0; kk < k; kk++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += row;
        dst += 32;
      }
      continue;
    }
    for (let kk = 0; kk < k; kk++) {
      for (let j = 0; j < 8; j++) {
        let v: f32 = 0;
        if (j < width) v = trans ? load<f32>(b + ((<usize>(n0 + j) * <usize>k + <usize>kk) << 2)) : load<f32>(b + ((<usize>kk * <usize>n + <usize>(n0 + j)) << 2));
        store<f32>(dst + (<usize>j << 2), v);
      }
      dst += 32;
    }
  }
}

/** Stores 8 columns (or the first `width`) of one row of C. */
@inline function store8(pc: usize, lo: v128, hi: v128, width: i32): void {
  if (width == 8) {
    v128.store(pc, lo);
    v128.store(pc, hi, 16);
    return;
  }
  if (width > 0) store<f32>(pc, f32x4.extract_lane(lo, 0));
  if (width > 1) store<f32>(pc, f32x4.extract_lane(lo, 1), 4);
  if (width > 2) store<f32>(pc, f32x4.extract_lane(lo, 2), 8);
  if (width > 3) store<f32>(pc, f32x4.extract_lane(lo, 3), 12);
  if (width > 4) store<f32>(pc, f32x4.extract_lane(hi, 0), 16);
  if (width > 5) store<f32>(pc, f32x4.extract_lane(hi, 1), 20);
  if (width > 6) store<f32>(pc, f32x4.extract_lane(hi, 2), 24);
}

/** Columns 0–3 (`hi`: 4–7) of one row of C, the first `width` of 8 (the rest 0). */
@inline function load4(pc: usize, width: i32, hi: i32): v128 {
  if (width == 8) return v128.load(pc + (<usize>hi << 4));
  let v = f32x4.splat(0);
  const j0 = hi << 2;
  if (width > j0) v = f32x4.replace_lane(v, 0, load<f32>(pc + (<usize>j0 << 2)));
  if (width > j0 + 1) v = f32x4.replace_lane(v, 1, load<f32>(pc + (<usize>j0 << 2), 4));
  if (width > j0 + 2) v = f32x4.replace_lane(v, 2, load<f32>(pc + (<usize>j0 << 2), 8));
  if (width > j0 + 3) v = f32x4.replace_lane(v, 3, load<f32>(pc + (<usize>j0 << 2), 12));
  return v;
}

/**
 * Rows of op(A) at pa, pa + si, …, pa + 3·si (next k: + sk) times one packed panel → 4 rows of C
 * at pc; `acc`: added to the partial sums C holds (a later block of k), else from 0.
 */
function block4x8(pa: usize, si: usize, sk: usize, pb: usize, k: i32, pc: usize, rowC: usize, width: i32, acc: i32): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (acc) {
    c00 = load4(pc, width, 0); c01 = load4(pc, width, 1);
    c10 = load4(pc + rowC, width, 0); c11 = load4(pc + rowC, width, 1);
    c20 = load4(pc + 2 * rowC, width, 0); c21 = load4(pc + 2 * rowC, width, 1);
    c30 = load4(pc + 3 * rowC, width, 0); c31 = load4(pc + 3 * rowC, width, 1);
  }
  const pa1 = pa + si, pa2 = pa + 2 * si, pa3 = pa + 3 * si;
  let o: usize = 0;
  let a: v128;
  for (let kk = 0; kk < k; kk++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    a = v128.load32_splat(pa + o);
    c00 = f32x4.add(c00, f32x4.mul(a, b0)); c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa1 + o);
    c10 = f32x4.add(c10, f32x4.mul(a, b0)); c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa2 + o);
    c20 = f32x4.add(c20, f32x4.mul(a, b0)); c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa3 + o);
    c30 = f32x4.add(c30, f32x4.mul(a, b0)); c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pb += 32;
    o += sk;
  }
  store8(pc, c00, c01, width);
  store8(pc + rowC, c10, c11, width);
  store8(pc + 2 * rowC, c20, c21, width);
  store8(pc + 3 * rowC, c30, c31, width);
}

/** One row of op(A) at pa (next k: + sk) times one packed panel → one row of C at pc (`acc`: as block4x8's). */
function block1x8(pa: usize, sk: usize, pb: usize, k: i32, pc: usize, width: i32, acc: i32): void {
  let c0 = f32x4.splat(0), c1 = c0;
  if (acc) {
    c0 = load4(pc, width, 0);
    c1 = load4(pc, width, 1);
  }
  for (let kk = 0; kk < k; kk++) {
    const a = v128.load32_splat(pa);
    c0 = f32x4.add(c0, f32x4.mul(a, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(a, v128.load(pb, 16)));
    pb += 32;
    pa += sk;
  }
  store8(pc, c0, c1, width);
}

/**
 * C = op(A)·op(B) with op(A) [M, K], op(B) [K, N]; `work` holds K·⌈N/8⌉·8 floats (the packed
 * panels). `transA`: A is stored [K, M]; `transB`: B is stored [N, K].
 */
export function gemm(a: usize, b: usize, c: usize, work: usize, m: i32, k: i32, n: i32, transA: i32, transB: i32): void {
  gemmPart(a, b, c, work, m, k, n, transA, transB, 0, m, 0, (n + 7) >> 3);
}

/**
 * The part of `gemm` in rows i0…i1−1 of C and column panels q0…q1−1 (columns 8·q0 … min(8·q1, N)−1):
 * packs those panels of op(B) into `work` (at their own offsets, panel q at q·K·8 floats) and
 * computes that block of C. Each element is computed as in the whole product, so any split of C
 * into parts run on different threads (each with its own `work`) gives the same bits.
 */
export function gemmPart(a: usize, b: usize, c: usize, work: usize, m: i32, k: i32, n: i32, transA: i32, transB: i32, i0: i32, i1: i32, q0: i32, q1: i32): void {
  if (i1 <= i0 || q1 <= q0) return;
  const rowC = <usize>n << 2;
  if (k <= 0) {
    const c0 = q0 << 3;
    const c1 = min(n, q1 << 3);
    for (let i = i0; i < i1; i++) memory.fill(c + <usize>i * rowC + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
    return;
  }
  pack(b, work, k, n, transB, q0, q1);
  // Byte strides of op(A): next row (si), next k (sk).
  const si: usize = transA ? 4 : <usize>k << 2;
  const sk: usize = transA ? <usize>m << 2 : 4;
  const panelBytes = <usize>k << 5;
  // Blocks of k (transposed A): as many as K needs at ≤ KC each, of equal length (the last shorter).
  const blocks = transA ? (k + KC - 1) / KC : 1;
  const kc = (k + blocks - 1) / blocks;
  for (let m0 = i0; m0 < i1; m0 += CHUNK) {
    const m1 = min(i1, m0 + CHUNK);
    const m4 = m0 + (m1 - m0) / 4 * 4;
    for (let k0 = 0; k0 < k; k0 += kc) {
      const kn = min(kc, k - k0);
      const acc = <i32>(k0 > 0);
      const pa = a + <usize>k0 * sk;
      for (let q = q0; q < q1; q++) {
        const n0 = q << 3;
        const width = min(8, n - n0);
        const pb = work + <usize>q * panelBytes + (<usize>k0 << 5);
        for (let i = m0; i < m4; i += 4) block4x8(pa + <usize>i * si, si, sk, pb, kn, c + ((<usize>i * <usize>n + <usize>n0) << 2), rowC, width, acc);
        for (let i = m4; i < m1; i++) block1x8(pa + <usize>i * si, sk, pb, kn, c + ((<usize>i * <usize>n + <usize>n0) << 2), width, acc);
      }
    }
  }
}
