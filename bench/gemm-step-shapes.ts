/** [M, K, N, transposeA, transposeB] of a 784-200-200-50 VAE training step's products at batch B (layers 784→200→200, the 200→50 heads, and 50→200→200→784). */
export function gemmStepShapes(b: number): [number, number, number, boolean, boolean][] {
  const layers: [number, number][] = [[784, 200], [200, 200], [200, 50], [50, 200], [200, 200], [200, 784]];
  return layers.flatMap(([i, out]) => [
    [b, i, out, false, false], // y = x·W
    [b, out, i, false, true], // dX = dY·Wᵀ
    [i, b, out, true, false], // dW = Xᵀ·dY
  ]);
}
