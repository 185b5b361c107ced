// AssemblyScript source of vaekit's Adam update on the wasm (and cpu) backend (`../../nn/adam.ts`
// documents the update). Compiled to `../adam-wasm.ts` by `npm run build:wasm`; a test checks
// that the committed binary is this file's.
//
// Four elements at a time (f32x4), each operation a float32 operation in the order of the tfjs
// ops of `Adam.step`'s fallback — float32 +, ×, ÷ and √ are correctly rounded, so the two paths
// give the same bits (tested). The module owns no memory (see `../host-wasm.ts`): it imports the
// memory holding the tensors and writes only the three outputs.

/**
 * x, m, v, g `[n]` → new x, m, v: m ← b1·m + c1·g, v ← b2·v + c2·g², x ← x + (m/(√v + eps))·alpha.
 * (`work`, the host-kernel work area, is unused.)
 */
export function adam(
  x: usize, m: usize, v: usize, g: usize, xOut: usize, mOut: usize, vOut: usize, work: usize,
  n: i32, b1: f32, c1: f32, b2: f32, c2: f32, alpha: f32, eps: f32,
): void {
  adamRange(x, m, v, g, xOut, mOut, vOut, work, 0, n, b1, c1, b2, c2, alpha, eps);
}

/**
 * `adam` on elements i0 … i1 − 1 only (threads update ranges of one variable: the same bits).
 * i0 must be a multiple of 4 for the same vector grouping as one call.
 */
export function adamRange(
  x: usize, m: usize, v: usize, g: usize, xOut: usize, mOut: usize, vOut: usize, work: usize,
  i0: i32, i1: i32, b1: f32, c1: f32, b2: f32, c2: f32, alpha: f32, eps: f32,
): void {
  const b1v = f32x4.splat(b1);
  const c1v = f32x4.splat(c1);
  const b2v = f32x4.splat(b2);
  const c2v = f32x4.splat(c2);
  const av = f32x4.splat(alpha);
  const ev = f32x4.splat(eps);
  const n4 = i0 + ((i1 - i0) & ~3);
  for (let i = i0; i < n4; i += 4) {
    const at = <usize>i << 2;
    const gi = v128.load(g + at);
    const mi = f32x4.add(f32x4.mul(v128.load(m + at), b1v), f32x4.mul(gi, c1v));
    const vi = f32x4.add(f32x4.mul(v128.load(v + at), b2v), f32x4.mul(f32x4.mul(gi, gi), c2v));
    v128.store(mOut + at, mi);
    v128.store(vOut + at, vi);
    v128.store(xOut + at, f32x4.add(v128.load(x + at), f32x4.mul(f32x4.div(mi, f32x4.add(f32x4.sqrt(vi), ev)), av)));
  }
  for (let i = n4; i < i1; i++) {
    const at = <usize>i << 2;
    const gi = load<f32>(g + at);
    const mi = load<f32>(m + at) * b1 + gi * c1;
    const vi = load<f32>(v + at) * b2 + gi * gi * c2;
    store<f32>(mOut + at, mi);
    store<f32>(vOut + at, vi);
    store<f32>(xOut + at, load<f32>(x + at) + (mi / (sqrt<f32>(vi) + eps)) * alpha);
  }
}
