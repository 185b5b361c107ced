import { afterEach, describe, expect, it } from 'vitest';
import { Random, hostKernelAvailable, registerHostKernel, runHostKernel, setSpeedFixes, tf } from '../../plugins/index.js';
import { PlanarFlow } from '../../plugins/planar-flow/planar-flow.js';
import { randomizeVariables } from '../support/flow-harness.js';
import { expectNoLeak } from '../support/memory.js';
import { biasTanh } from '../../src/nn/bias-tanh.js';
import { useWasmBackend } from '../support/on-wasm.js';

// About the wasm backend's speed fixes: runs on wasm whatever VAEKIT_BACKEND says.
useWasmBackend();

// A two-output kernel: [a·x + y, x·y] of equal-shape inputs, and the sum of x over its last axis.
registerHostKernel({
  name: 'VaekitTestAxpy',
  inputs: ['x', 'y'],
  outputShapes: ([x, y]) => {
    if (x!.join(',') !== y!.join(',')) throw new Error(`VaekitTestAxpy: shapes differ: [${x!.join(', ')}] vs [${y!.join(', ')}]`);
    return [x!.slice(), x!.slice(0, -1)];
  },
  compute: ([x, y], [out, rowSums], shapes) => {
    const n = shapes[0]!.at(-1)!;
    for (let i = 0; i < x!.length; i++) out![i] = 3 * x![i]! + y![i]!;
    for (let r = 0; r < rowSums!.length; r++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += x![r * n + i]!;
      rowSums![r] = sum;
    }
  },
});

afterEach(async () => {
  setSpeedFixes(null);
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
});

describe('host kernels', () => {
  for (const backend of ['wasm', 'cpu']) {
    it(`run on ${backend}: values, several outputs, no leaks`, async () => {
      await tf.setBackend(backend);
      expect(hostKernelAvailable('VaekitTestAxpy')).toBe(true);
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
      const y = tf.tensor2d([10, 20, 30, 40, 50, 60], [2, 3]);
      const [out, sums] = runHostKernel('VaekitTestAxpy', { x, y });
      expect(out!.shape).toEqual([2, 3]);
      expect(Array.from(out!.dataSync())).toEqual([13, 26, 39, 52, 65, 78]);
      expect(sums!.shape).toEqual([2]);
      expect(Array.from(sums!.dataSync())).toEqual([6, 15]);
      // Inputs are untouched (wasm: the kernel reads views on the heap).
      expect(Array.from(x.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      await expectNoLeak(() => tf.dispose(runHostKernel('VaekitTestAxpy', { x, y })));
      tf.dispose([x, y, out!, sums!]);
    });
  }

  for (const backend of ['wasm', 'cpu']) {
    it(`gives a WebAssembly kernel float32 tensors cast from bool and int32 by value on ${backend} (cpu's Cast keeps their Uint8Array/Int32Array)`, async () => {
      await tf.setBackend(backend);
      const fromBool = tf.tidy(() => tf.cast(tf.greater(tf.tensor2d([0.5, -1, 2, -3, 4, -5], [2, 3]), 0), 'float32')) as tf.Tensor2D;
      const fromInt = tf.tidy(() => tf.cast(tf.tensor1d([1, -2, 3], 'int32'), 'float32')) as tf.Tensor1D;
      // tanh(x + b) with x = [[1, 0, 1], [0, 1, 0]], b = [1, −2, 3]: a module that copied the raw
      // bytes would see x ≈ 1e-45 and b ≈ 1e-45 (int32 bit patterns read as float32).
      const y = biasTanh(fromBool, fromInt);
      const expected = [2, -2, 4, 1, -1, 3].map(Math.tanh);
      const got = y.dataSync();
      for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 6);
      tf.dispose([fromBool, fromInt, y]);
    });
  }

  it('is unavailable with the speed fixes off and for unknown names', () => {
    expect(hostKernelAvailable('VaekitTestAxpy')).toBe(true);
    expect(hostKernelAvailable('VaekitNoSuchKernel')).toBe(false);
    setSpeedFixes(false);
    expect(hostKernelAvailable('VaekitTestAxpy')).toBe(false);
  });

  it('rejects non-float32 inputs and inconsistent shapes with messages naming them', () => {
    const x = tf.tensor1d([1, 2], 'int32');
    const y = tf.tensor1d([1, 2], 'int32');
    expect(() => runHostKernel('VaekitTestAxpy', { x, y })).toThrow('VaekitTestAxpy: input "x" must be float32; got int32');
    const a = tf.ones([2, 3]);
    const b = tf.ones([3, 2]);
    expect(() => runHostKernel('VaekitTestAxpy', { x: a, y: b })).toThrow('VaekitTestAxpy: shapes differ: [2, 3] vs [3, 2]');
    tf.dispose([x, y, a, b]);
  });

  it('give the planar flow the same values and gradients on cpu as on wasm (to 1e-5 relative; the head matMul rounds differently)', async () => {
    const random = new Random(4);
    const flow = new PlanarFlow(4, 3, random, 3);
    randomizeVariables(flow, random, 0.5);
    const context = random.normal<tf.Rank.R2>([5, 3]);
    const z = random.normal<tf.Rank.R3>([2, 5, 4]);
    const run = () => {
      const c = tf.tensor(context.dataSync(), context.shape) as tf.Tensor2D;
      const zz = tf.tensor(z.dataSync(), z.shape) as tf.Tensor3D;
      const vars = flow.variables().map((v) => v.variable);
      const { value, grads } = tf.variableGrads(() => {
        const r = flow.forwardEach(zz, c);
        return tf.add(tf.sum(tf.square(r.z)), tf.sum(r.logDets)) as tf.Scalar;
      }, vars);
      const out = [value, ...vars.map((v) => grads[v.name]!)].map((t) => Array.from(t.dataSync()));
      tf.dispose([c, zz, value, ...Object.values(grads)]);
      return out;
    };
    const onWasm = run();
    await tf.setBackend('cpu');
    expect(hostKernelAvailable('VaekitPlanarStack')).toBe(true);
    const onCpu = run();
    await tf.setBackend('wasm');
    onWasm.forEach((values, i) => values.forEach((v, j) => expect(Math.abs(onCpu[i]![j]! - v)).toBeLessThan(1e-5 * (1 + Math.abs(v)))));
    tf.dispose([context, z]);
    flow.dispose();
  });
});
