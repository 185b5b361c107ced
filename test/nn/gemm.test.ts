import { afterEach, describe, expect, it } from 'vitest';
import { Random, matMul, setSpeedFixes, tf } from '../../plugins/index.js';
import { GEMM_KERNEL, gemm, gemmAvailable } from '../../src/nn/gemm.js';
import { expectNoLeak } from '../support/memory.js';
import { useWasmBackend } from '../support/on-wasm.js';

// About the wasm backend's product: runs on wasm whatever VAEKIT_BACKEND says.
useWasmBackend();

afterEach(async () => {
  setSpeedFixes(null);
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
});

function matrix(random: Random, rows: number, cols: number): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => 2 * random.uniform() - 1), [rows, cols]);
}

// Every block path: 4×8, 1×4 (rows past the last 4), 4×4 (N mod 8 ≥ 4), the N mod 4 tail; the VAE's shapes.
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 5, 3],
  [3, 7, 8],
  [4, 1, 12],
  [5, 9, 13],
  [7, 13, 11],
  [9, 16, 7],
  [33, 9, 6],
  [100, 784, 200],
  [100, 200, 1010],
  [200, 1010, 100],
  [100, 50, 200],
  [1000, 200, 50],
];

describe('vaekit matrix product (wasm SIMD)', () => {
  it('runs on wasm and cpu by default, not with the speed fixes off', async () => {
    expect(gemmAvailable()).toBe(true);
    setSpeedFixes(false);
    expect(gemmAvailable()).toBe(false);
    setSpeedFixes(null);
    await tf.setBackend('cpu');
    expect(gemmAvailable()).toBe(true);
  });

  for (const [m, k, n] of shapes) {
    it(`gives tf.matMul's bits for [${m}, ${k}]·[${k}, ${n}] on wasm, and the same on cpu to float32 rounding`, async () => {
      const random = new Random(m * 7 + k * 13 + n);
      const a = matrix(random, m, k);
      const b = matrix(random, k, n);
      const want = tf.matMul(a, b).dataSync();
      const got = gemm(a, b);
      expect(got.shape).toEqual([m, n]);
      expect(Array.from(got.dataSync())).toEqual(Array.from(want));
      const [av, bv] = [a.dataSync(), b.dataSync()];
      await tf.setBackend('cpu');
      const [ac, bc] = [tf.tensor2d(av, [m, k]), tf.tensor2d(bv, [k, n])];
      const onCpu = gemm(ac, bc).dataSync();
      const reference = tf.matMul(ac, bc).dataSync();
      // Through the private memory: the same bits as on wasm; the cpu backend's own matMul sums in another order.
      expect(Array.from(onCpu)).toEqual(Array.from(want));
      for (let i = 0; i < want.length; i++) expect(Math.abs(onCpu[i]! - reference[i]!)).toBeLessThan(1e-5 * (1 + Math.sqrt(k)));
      tf.dispose([ac, bc]);
      await tf.setBackend('wasm');
      tf.dispose([a, b, got]);
    });
  }

  it('is what Dense layers use (matMul) on wasm: one VaekitMatMul kernel, no BatchMatMul', async () => {
    const random = new Random(3);
    const [a, b] = [matrix(random, 10, 20), matrix(random, 20, 30)];
    const info = await tf.profile(() => tf.dispose(matMul(a, b)));
    expect(info.kernels.map((k) => k.name)).toEqual([GEMM_KERNEL]);
    tf.dispose([a, b]);
  });

  it('rejects operands whose shapes do not chain, naming both', () => {
    const [a, b] = [tf.ones([2, 3]), tf.ones([4, 5])];
    expect(() => gemm(a as tf.Tensor2D, b as tf.Tensor2D)).toThrow('VaekitMatMul: expected a [M, K] and b [K, N]; got [2, 3] and [4, 5]');
    tf.dispose([a, b]);
  });

  it('leaks no tensors forward or backward', async () => {
    const random = new Random(8);
    const [a, b] = [matrix(random, 12, 20), tf.variable(matrix(random, 20, 9))];
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(gemm(a, b))) as tf.Scalar, [b]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([a, b]);
  });
});
