import { describe, expect, it } from 'vitest';
import { useWasmBackend } from '../support/on-wasm.js';
import { tf } from '../../src/core/tf.js';
import { Random } from '../../src/core/random.js';
import { setSpeedFixes } from '../../src/backend/speed-fixes.js';
import { biasAdd, biasTanh, biasTanhAvailable } from '../../src/nn/bias-tanh.js';
import { Mlp } from '../../src/nn/mlp.js';

/** Pre-activations of scale 2 with extremes mixed in (0, −0, ±1e−6, ±1e−3, ±9, ±50, ±200). */
function values(n: number, seed: number): Float32Array {
  const r = new Random(seed);
  const extremes = [0, -0, 1e-6, -1e-6, 1e-3, -1e-3, 9, -9, 50, -50, 200, -200];
  return new Float32Array(n).map((_, i) => (i % 7 === 0 ? extremes[(i / 7) % extremes.length]! : 2 * r.gaussian()));
}

// The kernels run on wasm (and cpu through a copy) whatever backend the suite runs on.
useWasmBackend();

describe('fused bias + tanh kernel', () => {
  for (const backend of ['wasm', 'cpu']) {
    for (const [m, n] of [
      [100, 200],
      [7, 13], // N mod 4 = 1
      [5, 6], // N mod 4 = 2
      [3, 3], // no full vector
      [1, 1],
    ] as [number, number][]) {
      it(`equals tanh(x + b) and its tfjs autodiff gradients (${backend}, [${m}, ${n}])`, async () => {
        const previous = tf.getBackend();
        await tf.setBackend(backend);
        try {
          expect(biasTanhAvailable()).toBe(true);
          const before = tf.memory().numTensors;
          const x = tf.tensor2d(values(m * n, m + n), [m, n]);
          const b = tf.tensor1d(values(n, 3 * n).map((v) => v / 4));
          const dy = tf.tensor2d(values(m * n, 7).map((v) => Math.sin(v)), [m, n]);
          const fused = tf.tidy(() => {
            const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, bb: tf.Tensor) => biasTanh(xx as tf.Tensor2D, bb as tf.Tensor1D))([x, b], dy);
            return [value, ...grads];
          });
          const ops = tf.tidy(() => {
            const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, bb: tf.Tensor) => tf.tanh(tf.add(xx, bb)))([x, b], dy);
            return [value, ...grads];
          });
          const [fy, fdx, fdb] = fused.map((t) => t.dataSync());
          const [oy, odx, odb] = ops.map((t) => t.dataSync());
          const xs = x.dataSync();
          const bs = b.dataSync();
          for (let i = 0; i < m * n; i++) {
            const exact = Math.tanh(Math.fround(xs[i]! + bs[i % n]!));
            expect(Math.abs(fy![i]! - exact)).toBeLessThanOrEqual(2e-7 * Math.abs(exact) + 1e-7);
            expect(Math.abs(fy![i]! - oy![i]!)).toBeLessThanOrEqual(2e-7 * Math.abs(exact) + 1.2e-7);
            expect(Object.is(fy![i], -0)).toBe(Object.is(Math.fround(xs[i]! + bs[i % n]!), -0));
            // dy·(1 − y²) in float32 as tfjs does it: the same bits given the same y.
            const d = dy.dataSync()[i]!;
            expect(fdx![i]).toBe(Math.fround(d * Math.fround(1 - Math.fround(fy![i]! * fy![i]!))));
            expect(Math.abs(fdx![i]! - odx![i]!)).toBeLessThanOrEqual(1e-6 * Math.abs(d));
          }
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let i = 0; i < m; i++) sum = Math.fround(sum + fdx![i * n + j]!);
            expect(fdb![j]).toBe(sum); // rows summed in order
            expect(Math.abs(fdb![j]! - odb![j]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(odb![j]!)));
          }
          tf.dispose([x, b, dy, ...fused, ...ops]);
          expect(tf.memory().numTensors).toBe(before);
        } finally {
          await tf.setBackend(previous);
        }
      });
    }
  }

  for (const backend of ['wasm', 'cpu']) {
    for (const [m, n] of [
      [100, 784],
      [7, 13],
      [5, 6],
      [3, 3],
      [1, 1],
    ] as [number, number][]) {
      it(`the bias alone equals tf.add(x, b) and its tfjs gradients bit for bit (${backend}, [${m}, ${n}])`, async () => {
        const previous = tf.getBackend();
        await tf.setBackend(backend);
        try {
          const before = tf.memory().numTensors;
          const x = tf.tensor2d(values(m * n, m + n), [m, n]);
          const b = tf.tensor1d(values(n, 3 * n).map((v) => v / 4));
          const dy = tf.tensor2d(values(m * n, 7).map((v) => Math.sin(v)), [m, n]);
          const run = (f: (xx: tf.Tensor, bb: tf.Tensor) => tf.Tensor) =>
            tf.tidy(() => {
              const { value, grads } = tf.valueAndGrads(f)([x, b], dy);
              return [value, ...grads];
            });
          const fused = run((xx, bb) => biasAdd(xx as tf.Tensor2D, bb as tf.Tensor1D));
          const ops = run((xx, bb) => tf.add(xx, bb));
          const [fy, fdx, fdb] = fused.map((t) => t.dataSync());
          const [oy, odx] = ops.map((t) => t.dataSync());
          // x + b and dy are exact float32 operations: the same bits as tfjs's.
          expect(Array.from(fy!)).toEqual(Array.from(oy!));
          expect(Array.from(fdx!)).toEqual(Array.from(odx!));
          expect(Array.from(fdx!)).toEqual(Array.from(dy.dataSync()));
          const d = dy.dataSync();
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let i = 0; i < m; i++) sum = Math.fround(sum + d[i * n + j]!);
            expect(fdb![j]).toBe(sum); // rows summed in order
            expect(Math.abs(fdb![j]! - ops[2]!.dataSync()[j]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(sum)));
          }
          tf.dispose([x, b, dy, ...fused, ...ops]);
          expect(tf.memory().numTensors).toBe(before);
        } finally {
          await tf.setBackend(previous);
        }
      });
    }
  }

  it('is what a tanh MLP uses for its hidden layers, and tfjs ops under setSpeedFixes(false)', () => {
    const mlp = new Mlp(6, [16, 8], 'tanh', new Random(4), 3);
    const x = tf.tensor3d(values(2 * 5 * 6, 9).map((v) => v / 3), [2, 5, 6]);
    const fused = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(mlp.apply(x))) as tf.Scalar);
      return [value, ...Object.values(grads)];
    });
    setSpeedFixes(false);
    let ops: tf.Tensor[];
    try {
      expect(biasTanhAvailable()).toBe(false);
      ops = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(mlp.apply(x))) as tf.Scalar);
        return [value, ...Object.values(grads)];
      });
    } finally {
      setSpeedFixes(null);
    }
    expect(fused.length).toBe(ops.length);
    fused.forEach((t, i) => {
      const a = t.dataSync();
      const o = ops[i]!.dataSync();
      for (let j = 0; j < a.length; j++) expect(Math.abs(a[j]! - o[j]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(o[j]!)));
    });
    tf.dispose([x, ...fused, ...ops]);
    mlp.dispose();
  });
});
