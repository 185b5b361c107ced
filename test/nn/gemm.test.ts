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

// Every block path: 4×8 blocks, single rows past the last multiple of 4, a last panel of 1–7 columns,
// more than one chunk of 96 rows, K in several blocks of k ([100, 784, 200], [200, 1010, 100]); the VAE's shapes.
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
  [197, 31, 17],
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

  // op(a)·op(b) with either operand transposed: the bits of tf.matMul of the explicitly transposed
  // operands (a plain product; tfjs-wasm's own transposed-operand products sum in another order for
  // large K), on wasm and through the cpu copy. Mismatches are counted (a diff of long arrays is slow).
  // [37, 700, 13]: K in three blocks of k (≤ 256 each: later blocks add to the sums stored in C),
  // with rows past the last multiple of 4 and a last panel 5 columns wide.
  for (const [m, k, n] of [[1, 1, 1], [5, 9, 13], [100, 784, 200], [784, 100, 200], [197, 31, 17], [37, 700, 13]] as const) {
    for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
      it(`gives tf.matMul's bits for ${ta ? 'aᵀ' : 'a'}·${tb ? 'bᵀ' : 'b'} with [M, K, N] = [${m}, ${k}, ${n}], on wasm and cpu`, async () => {
        const random = new Random(m + 3 * k + 7 * n + (ta ? 1 : 0) + (tb ? 2 : 0));
        const a = ta ? matrix(random, k, m) : matrix(random, m, k);
        const b = tb ? matrix(random, n, k) : matrix(random, k, n);
        const want = tf.tidy(() => tf.matMul(ta ? tf.transpose(a) : a, tb ? tf.transpose(b) : b).dataSync());
        const mismatches = (v: ArrayLike<number>) => Array.from(v).filter((x, i) => x !== want[i]).length;
        const got = gemm(a, b, ta, tb);
        expect(got.shape).toEqual([m, n]);
        expect(mismatches(got.dataSync())).toBe(0);
        const [av, bv, as, bs] = [a.dataSync(), b.dataSync(), a.shape, b.shape];
        await tf.setBackend('cpu');
        const [ac, bc] = [tf.tensor2d(av, as), tf.tensor2d(bv, bs)];
        expect(mismatches(gemm(ac, bc, ta, tb).dataSync())).toBe(0);
        tf.dispose([ac, bc]);
        await tf.setBackend('wasm');
        tf.dispose([a, b, got]);
      });
    }
  }

  // Gradients are products of the same kernel with the transposes as flags: tfjs's gradient of
  // tf.matMul (with the speed fixes off: tfjs's own kernels) to float32 rounding, for every flag pair.
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`has tfjs's gradients for ${ta ? 'aᵀ' : 'a'}·${tb ? 'bᵀ' : 'b'} (weights dL/dC of a fixed random C-shaped tensor)`, () => {
      const [m, k, n] = [37, 53, 29];
      const random = new Random(41 + (ta ? 1 : 0) + (tb ? 2 : 0));
      const a = ta ? matrix(random, k, m) : matrix(random, m, k);
      const b = tb ? matrix(random, n, k) : matrix(random, k, n);
      const w = matrix(random, m, n);
      const loss = (f: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor2D, y as tf.Tensor2D), w));
      const got = tf.grads(loss((x, y) => gemm(x, y, ta, tb)))([a, b]);
      setSpeedFixes(false);
      const want = tf.grads(loss((x, y) => tf.matMul(x, y, ta, tb)))([a, b]);
      setSpeedFixes(null);
      for (let i = 0; i < 2; i++) {
        expect(got[i]!.shape).toEqual(want[i]!.shape);
        const [g, r] = [got[i]!.dataSync(), want[i]!.dataSync()];
        for (let j = 0; j < g.length; j++) expect(Math.abs(g[j]! - r[j]!)).toBeLessThan(1e-5 * (1 + Math.abs(r[j]!)));
      }
      tf.dispose([a, b, w, ...got, ...want]);
    });
  }

  it('computes a dense layer\'s gradients with no Transpose kernel', async () => {
    const random = new Random(5);
    const [x, w] = [matrix(random, 10, 20), tf.variable(matrix(random, 20, 30))];
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(matMul(x, w as tf.Variable as unknown as tf.Tensor2D)) as tf.Scalar, [w]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    expect(info.kernels.filter((k) => k.name === 'Transpose')).toEqual([]);
    expect(info.kernels.filter((k) => k.name === GEMM_KERNEL).length).toBe(2);
    tf.dispose([x, w]);
  });

  it('is what Dense layers use (matMul) on wasm: one VaekitMatMul kernel, no BatchMatMul', async () => {
    const random = new Random(3);
    const [a, b] = [matrix(random, 10, 20), matrix(random, 20, 30)];
    const info = await tf.profile(() => tf.dispose(matMul(a, b)));
    expect(info.kernels.map((k) => k.name)).toEqual([GEMM_KERNEL]);
    tf.dispose([a, b]);
  });

  it('rejects operands whose shapes do not chain, naming both', () => {
    const [a, b] = [tf.ones([2, 3]), tf.ones([4, 5])];
    expect(() => gemm(a as tf.Tensor2D, b as tf.Tensor2D)).toThrow('VaekitMatMul: expected a and b of shapes [M, K] and [K, N]; got a [2, 3] and b [4, 5]');
    expect(() => gemm(a as tf.Tensor2D, b as tf.Tensor2D, true, false)).toThrow('VaekitMatMul: expected aᵀ and b of shapes [M, K] and [K, N]; got a [2, 3] and b [4, 5]');
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
