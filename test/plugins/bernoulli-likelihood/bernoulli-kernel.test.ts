import { describe, expect, it } from 'vitest';
import { useWasmBackend } from '../../support/on-wasm.js';
import { tf } from '../../../src/core/tf.js';
import { setSpeedFixes } from '../../../src/backend/speed-fixes.js';
import { BernoulliLikelihood } from '../../../plugins/bernoulli-likelihood/bernoulli-likelihood.js';
import { BERNOULLI_CONSTANTS, bernoulliKernelAvailable, bernoulliLogProb } from '../../../plugins/bernoulli-likelihood/bernoulli-kernel.js';
import { BERNOULLI_WASM_BASE64 } from '../../../plugins/bernoulli-likelihood/bernoulli-wasm.js';
import { BERNOULLI_WASM } from '../../../plugins/bernoulli-likelihood/assembly/build.js';
import { Random } from '../../../src/core/random.js';
import { expectBuiltFromSource, expectConstantsFitWork, expectNoOwnMemory } from '../../support/wasm.js';

const binary = Buffer.from(BERNOULLI_WASM_BASE64, 'base64');
const WA = (globalThis as unknown as { WebAssembly: any }).WebAssembly;

/** Logits [K, B, P] of scale 3 with extremes mixed in (±60, ±1e−3, ±100), and x binary or intensities. */
function inputs(k: number, b: number, p: number, seed: number, binary: boolean): { l: Float32Array; x: Float32Array } {
  const r = new Random(seed);
  const extremes = [60, -60, 1e-3, -1e-3, 100, -100, 17, -17];
  const l = new Float32Array(k * b * p).map((_, i) => (i % 29 === 0 ? extremes[(i / 29) % extremes.length]! : 3 * r.gaussian()));
  const x = new Float32Array(b * p).map(() => (binary ? (r.uniform() < 0.5 ? 1 : 0) : r.uniform()));
  return { l, x };
}

/** The closed form in float64: −Σ_p [max(l, 0) − x·l + log1p(e^−|l|)] per row, and ∂/∂l = x − σ(l) (times dy). */
function reference(l: Float32Array, x: Float32Array, n: number, b: number, p: number, dy: Float32Array): { value: number[]; grad: number[]; scale: number[] } {
  const value: number[] = [];
  const scale: number[] = [];
  const grad: number[] = [];
  for (let row = 0; row < n; row++) {
    let s = 0;
    let a = 0;
    for (let j = 0; j < p; j++) {
      const lj = l[row * p + j]!;
      const xj = x[(row % b) * p + j]!;
      const term = Math.max(lj, 0) - xj * lj + Math.log1p(Math.exp(-Math.abs(lj)));
      s += term;
      a += Math.abs(term) + Math.abs(xj * lj);
      grad.push(dy[row]! * (xj - 1 / (1 + Math.exp(-lj))));
    }
    value.push(-s);
    scale.push(a);
  }
  return { value, grad, scale };
}

const shapes: [number, number, number][] = [
  [1, 7, 784],
  [3, 5, 13], // P mod 4 = 1: the scalar tail
  [2, 4, 3], // no SIMD body at all
];

// The kernels run on wasm (and cpu through a copy) whatever backend the suite runs on.
useWasmBackend();

describe('Bernoulli log-likelihood kernel', () => {
  it('the committed binary is what `npm run build:wasm` compiles from assembly/bernoulli-kernel.as.ts', async () => {
    await expectBuiltFromSource(BERNOULLI_WASM, binary);
  }, 60_000);

  it('gets a work area the size of its vector constants', () => {
    expectConstantsFitWork(BERNOULLI_WASM, BERNOULLI_CONSTANTS);
  });

  it('owns no memory: imports only its memory, has no memory, data or global sections', () => {
    expectNoOwnMemory(binary, ['env.memory:memory']);
    const exports = (WA.Module.exports(new WA.Module(binary)) as { name: string }[]).map((e) => e.name).sort();
    expect(exports).toEqual(['backward', 'backwardRows', 'forward', 'forwardRows']);
  });

  for (const backend of ['wasm', 'cpu']) {
    for (const [k, b, p] of shapes) {
      for (const binaryX of [true, false]) {
        it(`equals the closed form and the tfjs-op path, values and gradients (${backend}, K ${k}, B ${b}, P ${p}, ${binaryX ? 'binary' : 'intensity'} x)`, async () => {
          const previous = tf.getBackend();
          await tf.setBackend(backend);
          try {
            expect(bernoulliKernelAvailable()).toBe(true);
            const { l, x } = inputs(k, b, p, 17 * k + p, binaryX);
            const dyValues = new Float32Array(k * b).map((_, i) => Math.cos(i + 1));
            const ref = reference(l, x, k * b, b, p, dyValues);
            const before = tf.memory().numTensors;
            const lt = tf.tensor3d(l, [k, b, p]);
            const xt = tf.tensor2d(x, [b, p]);
            const dy = tf.tensor2d(dyValues, [k, b]);
            const kernel = (ll: tf.Tensor, xx: tf.Tensor) => tf.reshape(bernoulliLogProb(tf.reshape(ll, [k * b, p]) as tf.Tensor2D, xx as tf.Tensor2D), [k, b]);
            const ops = (ll: tf.Tensor, xx: tf.Tensor) => BernoulliLikelihood.logProbOps(xx as tf.Tensor2D, ll as tf.Tensor3D);
            const [kv, kg, kgx] = tf.tidy(() => {
              const { value, grads } = tf.valueAndGrads((ll: tf.Tensor, xx: tf.Tensor) => kernel(ll, xx))([lt, xt], dy);
              return [value, ...grads];
            }) as tf.Tensor[] as [tf.Tensor, tf.Tensor, tf.Tensor];
            const [ov, og, ogx] = tf.tidy(() => {
              const { value, grads } = tf.valueAndGrads((ll: tf.Tensor, xx: tf.Tensor) => ops(ll, xx))([lt, xt], dy);
              return [value, ...grads];
            }) as tf.Tensor[] as [tf.Tensor, tf.Tensor, tf.Tensor];
            const kvs = kv.dataSync();
            const ovs = ov.dataSync();
            for (let i = 0; i < k * b; i++) {
              // Terms in float32 with series exp/log1p (relative 2e−7 each), summed in float32 lanes.
              expect(Math.abs(kvs[i]! - ref.value[i]!)).toBeLessThanOrEqual(1e-6 * ref.scale[i]! + 1e-6);
              expect(Math.abs(kvs[i]! - ovs[i]!)).toBeLessThanOrEqual(2e-6 * ref.scale[i]! + 1e-6);
            }
            const kgs = kg.dataSync();
            const ogs = og.dataSync();
            for (let i = 0; i < kgs.length; i++) {
              expect(Math.abs(kgs[i]! - ref.grad[i]!)).toBeLessThanOrEqual(1e-6);
              expect(Math.abs(kgs[i]! - ogs[i]!)).toBeLessThanOrEqual(1e-6);
            }
            // ∂/∂x = Σ_k dy·l (tfjs ops in both).
            const kx = kgx.dataSync();
            const ox = ogx.dataSync();
            for (let i = 0; i < kx.length; i++) expect(Math.abs(kx[i]! - ox[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ox[i]!)));
            tf.dispose([lt, xt, dy, kv, kg, ov, og, ogx, kgx]);
            expect(tf.memory().numTensors).toBe(before);
          } finally {
            await tf.setBackend(previous);
          }
        });
      }
    }
  }

  it('is what BernoulliLikelihood.logProb uses, and the op path under setSpeedFixes(false)', () => {
    const lik = new BernoulliLikelihood(3, 10, { hidden: [6], activation: 'tanh' }, new Random(2));
    const z = tf.tensor3d(new Float32Array(2 * 4 * 3).map((_, i) => Math.sin(i)), [2, 4, 3]);
    const x = tf.tensor2d(new Float32Array(4 * 10).map((_, i) => (i % 3 === 0 ? 1 : 0)), [4, 10]);
    const fast = lik.logProb(x, z);
    setSpeedFixes(false);
    let slow: tf.Tensor;
    try {
      expect(bernoulliKernelAvailable()).toBe(false);
      slow = lik.logProb(x, z);
    } finally {
      setSpeedFixes(null);
    }
    const a = fast.dataSync();
    const s = slow.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]!).toBeCloseTo(s[i]!, 4);
    tf.dispose([z, x, fast, slow]);
    lik.dispose();
  });
});
