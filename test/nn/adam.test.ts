import { describe, expect, it } from 'vitest';
import { tf, Random, gemmThreadStats, hostKernelAvailable, setKernelThreads, setSpeedFixes } from '../../plugins/index.js';
import { holdGemmHelpers } from '../../src/backend/gemm-threads.js';
import { hostHeap } from '../../src/backend/host-kernel.js';
import { isSharedMemory } from '../../src/backend/shared-heap.js';
import { MIN_SPLIT_ELEMENTS } from '../../src/backend/host-wasm.js';
import { Adam } from '../../src/nn/adam.js';
import { expectNoLeak } from '../support/memory.js';
import { HOST_KERNEL_BACKEND, requires } from '../support/requires.js';

/** A least-squares problem; 21 outputs make sizes 630 and 21, not multiples of 4 (the kernel's SIMD width). */
function problem(seed: number, inputs = 30, outputs = 21) {
  const random = new Random(seed);
  const w = tf.variable(random.normal([inputs, outputs]));
  const b = tf.variable(random.normal([outputs]));
  const x = random.normal<tf.Rank.R2>([50, inputs]);
  const y = random.normal<tf.Rank.R2>([50, outputs]);
  const loss = () => tf.tidy(() => tf.mean(tf.square(tf.sub(tf.tanh(tf.add(tf.matMul(x, w), b)), y))) as tf.Scalar);
  return { w, b, x, y, loss, dispose: () => tf.dispose([w, b, x, y]) };
}

const values = (vs: tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));

function maxRelDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!) / Math.max(1, Math.abs(v))))));
  return m;
}

describe('Adam', () => {
  it('takes the same steps as tf.train.adam (rel. max |Δ| ≤ 1e-5 after 20 steps)', () => {
    const p = problem(1);
    const q = problem(1);
    const ours = new Adam([p.w, p.b], { learningRate: 0.01 });
    const theirs = tf.train.adam(0.01);
    for (let i = 0; i < 20; i++) {
      const g = tf.variableGrads(p.loss, [p.w, p.b]);
      ours.step([g.grads[p.w.name]!, g.grads[p.b.name]!]);
      tf.dispose([g.value, ...Object.values(g.grads)]);
      theirs.minimize(q.loss, false, [q.w, q.b]);
    }
    const diff = maxRelDiff(values([p.w, p.b]), values([q.w, q.b]));
    expect(diff).toBeLessThanOrEqual(1e-5);
    // The weights moved (the comparison is not between two untouched copies).
    const fresh = problem(1);
    expect(maxRelDiff(values([p.w, p.b]), values([fresh.w, fresh.b]))).toBeGreaterThan(0.05);
    [p, q, fresh].forEach((r) => r.dispose());
    ours.dispose();
    theirs.dispose();
  });

  for (const [inputs, outputs] of [[30, 21], [200, 1010]] as const) {
    it(`gives the same bits through its host kernel (wasm) as through tfjs ops, over 15 steps (weights [${inputs}, ${outputs}])`, (ctx) => {
      requires(ctx, HOST_KERNEL_BACKEND);
      expect(hostKernelAvailable('VaekitAdam')).toBe(true);
      const run = (kernel: boolean) => {
        const p = problem(4, inputs, outputs);
        const initial = Array.from(p.w.dataSync());
        const adam = new Adam([p.w, p.b], { learningRate: 0.02 });
        for (let i = 0; i < 15; i++) {
          const g = tf.variableGrads(p.loss, [p.w, p.b]);
          setSpeedFixes(kernel ? null : false);
          try {
            adam.step([g.grads[p.w.name]!, g.grads[p.b.name]!]);
          } finally {
            setSpeedFixes(null);
          }
          tf.dispose([g.value, ...Object.values(g.grads)]);
        }
        const state = adam.getState(['w', 'b']);
        const out = [...values([p.w, p.b]), ...state.map((s) => Array.from(s.tensor.dataSync()))];
        tf.dispose(state.map((s) => s.tensor));
        adam.dispose();
        p.dispose();
        expect(maxRelDiff([out[0]!], [initial])).toBeGreaterThan(0.05); // the weights moved
        return out;
      };
      const viaKernel = run(true);
      const viaOps = run(false);
      expect(viaKernel.length).toBe(7); // w, b, iter, and m, v of both
      viaKernel.forEach((a, i) => expect(new Float32Array(a)).toEqual(new Float32Array(viaOps[i]!)));
    });
  }

  it('gives the same bits with a large variable updated in chunks over two kernel threads on the shared heap, also with the helper held', (ctx) => {
    requires(ctx, { missing: () => (tf.getBackend() === 'wasm' ? null : `asserts chunks on tfjs-wasm's shared heap; this run is on ${tf.getBackend()}`) });
    expect(isSharedMemory(hostHeap())).toBe(true);
    const [inputs, outputs] = [200, 1010]; // 202,000 weights ≥ MIN_SPLIT_ELEMENTS, not a multiple of the chunk size
    expect(inputs * outputs).toBeGreaterThanOrEqual(MIN_SPLIT_ELEMENTS);
    const run = (threads: number, hold = false) => {
      const p = problem(6, inputs, outputs);
      const adam = new Adam([p.w, p.b], { learningRate: 0.02 });
      setKernelThreads(threads);
      try {
        for (let i = 0; i < 5; i++) {
          const g = tf.variableGrads(p.loss, [p.w, p.b]);
          holdGemmHelpers(hold);
          try {
            adam.step([g.grads[p.w.name]!, g.grads[p.b.name]!]);
          } finally {
            holdGemmHelpers(false);
          }
          tf.dispose([g.value, ...Object.values(g.grads)]);
        }
      } finally {
        setKernelThreads(null);
      }
      const state = adam.getState(['w', 'b']);
      const out = [...values([p.w, p.b]), ...state.map((s) => Array.from(s.tensor.dataSync()))];
      tf.dispose(state.map((s) => s.tensor));
      adam.dispose();
      p.dispose();
      return out;
    };
    const one = run(1);
    const start = gemmThreadStats();
    const two = run(2);
    const mid = gemmThreadStats();
    const held = run(2, true);
    const end = gemmThreadStats();
    two.forEach((a, i) => expect(new Float32Array(a), `array ${i}, two threads`).toEqual(new Float32Array(one[i]!)));
    held.forEach((a, i) => expect(new Float32Array(a), `array ${i}, helper held`).toEqual(new Float32Array(one[i]!)));
    // Five updates of w in guided chunks (about 20 each): every chunk counted once; held, none by the helper.
    expect(mid.chunksHere + mid.chunksHelped - start.chunksHere - start.chunksHelped).toBeGreaterThanOrEqual(5 * 8);
    expect(end.chunksHelped).toBe(mid.chunksHelped);
    expect(end.chunksHere - mid.chunksHere).toBeGreaterThanOrEqual(5 * 8);
  });

  it('restores weights, moments and step count exactly from a snapshot', () => {
    const p = problem(2);
    const adam = new Adam([p.w, p.b], { learningRate: 0.01 });
    const step = () => {
      const g = tf.variableGrads(p.loss, [p.w, p.b]);
      adam.step([g.grads[p.w.name]!, g.grads[p.b.name]!]);
      tf.dispose([g.value, ...Object.values(g.grads)]);
    };
    step();
    const snap = adam.snapshot();
    step();
    step();
    const after = values([p.w, p.b]);
    adam.restore(snap);
    expect(adam.steps).toBe(1);
    step();
    step();
    expect(values([p.w, p.b])).toEqual(after);
    Adam.disposeSnapshot(snap);
    adam.dispose();
    p.dispose();
  });

  it('round-trips its state in the [iter, m…, v…] layout and rejects a wrong one', () => {
    const p = problem(3);
    const q = problem(3);
    const a = new Adam([p.w, p.b], { learningRate: 0.01 });
    const b = new Adam([q.w, q.b], { learningRate: 0.01 });
    const stepBoth = (n: number, opts: Adam[], probs: ReturnType<typeof problem>[]) => {
      for (let i = 0; i < n; i++)
        opts.forEach((o, k) => {
          const pr = probs[k]!;
          const g = tf.variableGrads(pr.loss, [pr.w, pr.b]);
          o.step([g.grads[pr.w.name]!, g.grads[pr.b.name]!]);
          tf.dispose([g.value, ...Object.values(g.grads)]);
        });
    };
    stepBoth(3, [a], [p]);
    const state = a.getState(['w', 'b']);
    expect(state.map((s) => s.name)).toEqual(['iter', 'w/m', 'b/m', 'w/v', 'b/v']);
    expect(state[0]!.tensor.dataSync()[0]).toBe(3);
    q.w.assign(p.w);
    q.b.assign(p.b);
    b.setState(state);
    stepBoth(4, [a, b], [p, q]);
    expect(values([q.w, q.b])).toEqual(values([p.w, p.b]));
    expect(() => b.setState(state.slice(0, 3))).toThrow(/expected 5 tensors/);
    tf.dispose(state.map((s) => s.tensor));
    a.dispose();
    b.dispose();
    p.dispose();
    q.dispose();
  });

  it('leaks no tensors per step', async () => {
    const p = problem(4);
    const adam = new Adam([p.w, p.b], { learningRate: 0.01 });
    await expectNoLeak(() => {
      const g = tf.variableGrads(p.loss, [p.w, p.b]);
      adam.step([g.grads[p.w.name]!, g.grads[p.b.name]!]);
      tf.dispose([g.value, ...Object.values(g.grads)]);
    });
    const before = tf.memory().numTensors;
    adam.dispose();
    expect(tf.memory().numTensors).toBe(before - 8);
    p.dispose();
  });
});
