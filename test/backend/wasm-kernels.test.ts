import { afterEach, describe, expect, it } from 'vitest';
import { Random, tf, setSpeedFixes } from '../../plugins/index.js';
import { installWasmKernels } from '../../src/backend/wasm-kernels.js';
import { useWasmBackend } from '../support/on-wasm.js';

// About the wasm backend's speed fixes: runs on wasm whatever VAEKIT_BACKEND says.
useWasmBackend();

afterEach(() => setSpeedFixes(null));

describe('wasm speed kernels', () => {
  it('are installed on the wasm backend', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(installWasmKernels()).toBe(true);
  });

  it('clone without copying the buffer, and the clone outlives its source', () => {
    const x = tf.tensor2d([1.5, -2, 3.25, 4], [2, 2]);
    const buffers = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(buffers); // one shared buffer
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1.5, -2, 3.25, 4]);
    y.dispose();
  });

  it('copy again when the speed fixes are off (tfjs behaviour)', () => {
    setSpeedFixes(false);
    const x = tf.tensor1d([1, 2, 3, 4]);
    const buffers = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(buffers + 1);
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    tf.dispose([x, y]);
  });

  it('share a float32 → float32 cast but convert other dtypes', () => {
    const x = tf.tensor1d([1.75, -2.5, 3]);
    const buffers = tf.memory().numDataBuffers;
    const same = tf.cast(x, 'float32');
    expect(tf.memory().numDataBuffers).toBe(buffers);
    const ints = tf.cast(x, 'int32');
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([1, -2, 3]);
    expect(Array.from(same.dataSync())).toEqual([1.75, -2.5, 3]);
    tf.dispose([x, same, ints]);
  });

  it('keep a variable snapshot intact when the variable is reassigned', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const snap = tf.clone(v);
    v.assign(tf.tensor1d([5, 6]));
    expect(Array.from(snap.dataSync())).toEqual([1, 2]);
    expect(Array.from(v.dataSync())).toEqual([5, 6]);
    tf.dispose([v, snap]);
  });

  it('give bit-identical gradients to the copying kernels (they only change buffer ownership)', () => {
    const x = tf.variable(tf.tensor2d([0.3, -1.2, 2.0, 0.7, -0.4, 1.1], [2, 3]));
    const w = tf.tensor2d([0.5, -0.25, 1.5, 0.75, -1, 0.2], [3, 2]);
    const f = () => tf.sum(tf.mul(tf.tanh(tf.matMul(x, w)), tf.slice(tf.cast(tf.square(x), 'float32'), [0, 0], [2, 2]))) as tf.Scalar;
    // Compare with the matMul fix off in both runs, toggling only the kernels through a spy.
    const run = () => {
      const { value, grads } = tf.variableGrads(f, [x]);
      const g = Array.from(grads[x.name]!.dataSync());
      tf.dispose([value, ...Object.values(grads)]);
      return g;
    };
    const shared = run();
    setSpeedFixes(false);
    const copied = run();
    setSpeedFixes(null);
    // 2×3·3×2 products: the matMul gradient forms agree exactly at this size.
    expect(shared).toEqual(copied);
    tf.dispose([x, w]);
  });

  it('slice and split exactly as tfjs does, for every rank 1–4, dtype and slice shape tried', () => {
    const random = new Random(8);
    const int = (n: number) => Math.floor(random.uniform() * n);
    const both = (f: () => tf.Tensor | tf.Tensor[]) => {
      const values = (r: tf.Tensor | tf.Tensor[]) => {
        const list = Array.isArray(r) ? r : [r];
        const out = list.map((t) => ({ shape: t.shape, dtype: t.dtype, data: Array.from(t.dataSync()) }));
        tf.dispose(list);
        return out;
      };
      const ours = values(f());
      setSpeedFixes(false);
      try {
        expect(ours).toEqual(values(f()));
      } finally {
        setSpeedFixes(null);
      }
      return ours;
    };
    let nonTrivial = 0;
    for (let trial = 0; trial < 60; trial++) {
      const rank = 1 + (trial % 4);
      const shape = Array.from({ length: rank }, () => 1 + int(5));
      const dtype = (['float32', 'int32', 'bool'] as const)[trial % 3]!;
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(Array.from({ length: n }, (_, i) => (dtype === 'bool' ? Number(i % 3 === 0) : dtype === 'int32' ? i - 7 : i * 0.37 - 2)), shape, dtype);
      const begin = shape.map((d) => int(d));
      const size = shape.map((d, i) => (int(4) === 0 ? -1 : 1 + int(d - begin[i]!)));
      const sliced = both(() => tf.slice(x, begin, size));
      if (sliced[0]!.data.length < n) nonTrivial++;
      const axis = int(rank);
      const d = shape[axis]!;
      const first = int(d + 1);
      both(() => tf.split(x, [first, d - first], axis));
      x.dispose();
    }
    expect(nonTrivial).toBeGreaterThan(20); // most slices take part of their input
    // λ-like split along the last axis and a continuous (leading-axis) slice.
    const lambda = tf.tensor2d(Array.from({ length: 7 * 30 }, (_, i) => i), [7, 30]);
    const parts = both(() => tf.split(lambda, [5, 5, 20], 1));
    expect(parts.map((p) => p.shape)).toEqual([[7, 5], [7, 5], [7, 20]]);
    expect(parts[2]!.data.slice(0, 3)).toEqual([10, 11, 12]);
    both(() => tf.slice(lambda, [2, 0], [3, 30]));
    lambda.dispose();
  });

  it('come with the gradients of every op the library uses (registered by the tfjs union package)', () => {
    const used = ['BatchMatMul', 'Tanh', 'Relu', 'Elu', 'Softplus', 'Sigmoid', 'Exp', 'Log', 'Log1p', 'Add', 'Sub', 'Multiply', 'RealDiv',
      'Sum', 'Mean', 'Max', 'Square', 'Sqrt', 'Neg', 'Abs', 'Reshape', 'Transpose', 'Concat', 'SplitV', 'Slice', 'Tile', 'Cast',
      'Identity', 'ExpandDims', 'Maximum', 'Step', 'Pack', 'AddN'];
    expect(used.filter((k) => tf.getGradient(k) == null)).toEqual([]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.tanh(a)));
    const d = g(tf.tensor1d([0, 1])).dataSync();
    expect(d[0]).toBeCloseTo(1, 6);
    expect(d[1]).toBeCloseTo(1 - Math.tanh(1) ** 2, 6);
  });
});
