import { afterEach, describe, expect, it } from 'vitest';
import { tf, Dense, Random, createVae, setSpeedFixes, wasmSpeedFixesActive } from '../../plugins/index.js';
import { trainingLoss } from '../../src/train/trainer.js';
import { GEMM_KERNEL } from '../../src/nn/gemm.js';
import { expectNoLeak } from '../support/memory.js';
import { useWasmBackend } from '../support/on-wasm.js';

// About the wasm backend's speed fixes: runs on wasm whatever VAEKIT_BACKEND says.
useWasmBackend();

afterEach(() => setSpeedFixes(null));

/** Gradients of a scalar loss w.r.t. `xs`, with the transposed-matMul fix on or off. */
function gradsWith(fast: boolean, f: () => tf.Scalar, xs: tf.Variable[]): Float32Array[] {
  setSpeedFixes(fast);
  const { value, grads } = tf.variableGrads(f, xs);
  const out = xs.map((v) => grads[v.name]!.dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!)))));
  return m;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function uniform(random: Random, shape: number[], scale = 1): tf.Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * random.uniform() - 1) * scale;
  return tf.tensor(a, shape);
}

// Every layer shape of the 784-200-200-50 VAE, its flows' heads (planar: 200 → 2D+1; RealNVP
// coupling: kept half 25 → 64, context 200 → 64, 64 → 2·25) and the decoder on K·B rows.
const shapes: [number, number][] = [
  [784, 200],
  [200, 200],
  [200, 50],
  [50, 200],
  [200, 784],
  [200, 101],
  [25, 64],
  [200, 64],
  [64, 50],
];

describe('the transposed-matMul gradient fix', () => {
  it('is on for wasm by default and off when set to false', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmSpeedFixesActive()).toBe(true);
    setSpeedFixes(false);
    expect(wasmSpeedFixesActive()).toBe(false);
    setSpeedFixes(null);
    expect(wasmSpeedFixesActive()).toBe(true);
  });

  for (const [inDim, outDim] of shapes) {
    for (const [label, lead] of [
      ['[B, ·]', [100]],
      ['[K·B, ·]', [5, 100]],
    ] as const) {
      it(`gives the plain tfjs gradients of a ${inDim}→${outDim} Dense layer on ${label} inputs (max |Δ| ≤ 1e-5)`, () => {
        const random = new Random(inDim * 1000 + outDim + lead.length);
        const layer = new Dense(inDim, outDim, random);
        const x = tf.variable(uniform(random, [...lead, inDim]));
        const c = uniform(random, [...lead, outDim], 1 / lead.reduce((p, q) => p * q, 1));
        const loss = () => tf.sum(tf.mul(tf.tanh(layer.apply(x as tf.Tensor2D)), c)) as tf.Scalar;
        const vars = [x, layer.kernel, layer.bias];
        const fast = gradsWith(true, loss, vars);
        const plain = gradsWith(false, loss, vars);
        const diff = maxAbsDiff(fast, plain);
        expect(diff).toBeLessThanOrEqual(1e-5);
        // The gradients are not trivially zero (the comparison can fail).
        expect(maxAbs(plain[1]!)).toBeGreaterThan(1e-3);
        tf.dispose([x, c]);
        layer.dispose();
      });
    }
  }

  it('gives the plain gradients for two heads sharing their input (200→50 ×2, gradients summed into h)', () => {
    const random = new Random(11);
    const mean = new Dense(200, 50, random);
    const logStd = new Dense(200, 50, random);
    const h = tf.variable(uniform(random, [100, 200]));
    const loss = () =>
      tf.tidy(() => tf.mean(tf.add(tf.square(mean.apply(h as tf.Tensor2D)), tf.exp(logStd.apply(h as tf.Tensor2D)))) as tf.Scalar);
    const vars = [h, mean.kernel, mean.bias, logStd.kernel, logStd.bias];
    expect(maxAbsDiff(gradsWith(true, loss, vars), gradsWith(false, loss, vars))).toBeLessThanOrEqual(1e-5);
    tf.dispose(h);
    mean.dispose();
    logStd.dispose();
  });

  it('gives the plain gradients for matMuls with transposed operands and batched (rank-3) products', () => {
    const random = new Random(5);
    const a = tf.variable(uniform(random, [3, 40, 30]));
    const b = tf.variable(uniform(random, [3, 20, 30]));
    const p = tf.variable(uniform(random, [30, 40]));
    const q = tf.variable(uniform(random, [20, 30]));
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      const loss2 = () =>
        tf.tidy(() => {
          const left = ta ? p : tf.transpose(p); // [30,40] or [40,30]
          const right = tb ? q : tf.transpose(q); // [20,30] or [30,20]
          return tf.sum(tf.tanh(tf.matMul(left, right, ta, tb))) as tf.Scalar;
        });
      expect(maxAbsDiff(gradsWith(true, loss2, [p, q]), gradsWith(false, loss2, [p, q]))).toBeLessThanOrEqual(1e-5);
    }
    const loss3 = () => tf.tidy(() => tf.sum(tf.tanh(tf.matMul(a, b, false, true))) as tf.Scalar);
    expect(maxAbsDiff(gradsWith(true, loss3, [a, b]), gradsWith(false, loss3, [a, b]))).toBeLessThanOrEqual(1e-5);
    tf.dispose([a, b, p, q]);
  });

  it('computes the backward pass of a 784→200 layer with plain (non-transposed) matMuls only', async () => {
    const random = new Random(2);
    const layer = new Dense(784, 200, random);
    const x = uniform(random, [100, 784]);
    const shapesOf = async (fast: boolean) => {
      setSpeedFixes(fast);
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.tanh(layer.apply(x as tf.Tensor2D))) as tf.Scalar, [layer.kernel]);
        tf.dispose([value, ...Object.values(grads)]);
      });
      return info.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === GEMM_KERNEL).map((k) => k.inputShapes as number[][]);
    };
    const inner = (s: number[][]) => s[0]![s[0]!.length - 1] === s[1]![s[1]!.length - 2];
    const fast = await shapesOf(true);
    const plain = await shapesOf(false);
    // forward + dW only (the data input gets no gradient): both plain with the fix (vaekit's product).
    expect(fast.length).toBe(2);
    expect(fast.every(inner)).toBe(true);
    // tfjs's own gradient multiplies xᵀ·dy as matMul(x, dy, transposeA): inner sizes 784 vs 100.
    expect(plain.some((s) => !inner(s))).toBe(true);
    tf.dispose(x);
    layer.dispose();
  });

  it('gives the plain gradients of a whole VAE training loss (relative max |Δ| ≤ 1e-5)', () => {
    const vae = createVae({
      latentDim: 50,
      dataDim: 784,
      encoder: { type: 'gaussian', hidden: [200, 200] },
      prior: { type: 'standard-normal' },
      likelihood: { type: 'bernoulli', hidden: [200, 200] },
      seed: 3,
    });
    const random = new Random(9);
    const x = tf.tensor2d(Float32Array.from({ length: 100 * 784 }, () => (random.uniform() < 0.3 ? 1 : 0)), [100, 784]);
    const vars = vae.variables().map((v) => v.variable);
    const loss = () => {
      vae.random.reseed(4);
      return trainingLoss(vae, x, { type: 'elbo', samples: 1 }, 1);
    };
    const fast = gradsWith(true, loss, vars);
    const plain = gradsWith(false, loss, vars);
    const scale = Math.max(...plain.map(maxAbs));
    expect(maxAbsDiff(fast, plain) / scale).toBeLessThanOrEqual(1e-5);
    tf.dispose(x);
    vae.dispose();
  });

  it('leaks no tensors in a fast backward pass', async () => {
    const random = new Random(1);
    const layer = new Dense(50, 200, random);
    const x = uniform(random, [20, 50]);
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x as tf.Tensor2D)) as tf.Scalar, [layer.kernel, layer.bias]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose(x);
    layer.dispose();
  });
});
