import { afterEach, describe, expect, it } from 'vitest';
import { Random, setSpeedFixes, tf } from '../../plugins/index.js';
import { sampleDiagonalNormal } from '../../src/core/diagonal-normal.js';
import { diagonalGaussianStandardNormalKl } from '../../src/core/kl-rule.js';
import { diagonalGaussian } from '../../src/core/posterior.js';
import { NORMAL_KL_KERNEL, NORMAL_LOG_Q_KERNEL, NORMAL_SAMPLE_KERNEL, fusedNormalKl, fusedNormalSample, normalKernelsAvailable } from '../../src/core/diagonal-normal-kernels.js';
import { runHostKernel } from '../../src/backend/host-kernel.js';
import { expectNoLeak } from '../support/memory.js';
import { useWasmBackend } from '../support/on-wasm.js';

// About the wasm (and cpu) host kernels: runs on wasm whatever VAEKIT_BACKEND says.
useWasmBackend();

afterEach(async () => {
  setSpeedFixes(null);
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
});

/** Values of the sample (z, log q) and the KL, and their gradients w.r.t. μ, log σ, ε under fixed random weights. */
function evaluate(mean: number[], logStd: number[], eps: number[], [k, b, d]: [number, number, number], weights: { z: number[]; logQ: number[]; kl: number[] }) {
  return tf.tidy(() => {
    const m = tf.tensor2d(mean, [b, d]);
    const s = tf.tensor2d(logStd, [b, d]);
    const e = tf.tensor3d(eps, [k, b, d]);
    const [wz, wq, wk] = [tf.tensor3d(weights.z, [k, b, d]), tf.tensor2d(weights.logQ, [k, b]), tf.tensor1d(weights.kl)];
    const parts = (m: tf.Tensor, s: tf.Tensor, e: tf.Tensor) => {
      const { z, logQ } = sampleDiagonalNormal(m, s, e as tf.Tensor3D);
      const kl = diagonalGaussianStandardNormalKl.kl(diagonalGaussian(m as tf.Tensor2D, s as tf.Tensor2D), undefined as never);
      return { z, logQ, kl };
    };
    const { z, logQ, kl } = parts(m, s, e);
    const loss = (m: tf.Tensor, s: tf.Tensor, e: tf.Tensor) => {
      const p = parts(m, s, e);
      return tf.addN([tf.sum(tf.mul(p.z, wz)), tf.sum(tf.mul(p.logQ, wq)), tf.sum(tf.mul(p.kl, wk))]) as tf.Scalar;
    };
    const [gm, gs, ge] = tf.grads(loss)([m, s, e]);
    return [z, logQ, kl, gm!, gs!, ge!].map((t) => Array.from(t.dataSync()));
  });
}

function data(seed: number, k: number, b: number, d: number) {
  const random = new Random(seed);
  const u = (n: number, scale: number) => Array.from({ length: n }, () => scale * (2 * random.uniform() - 1));
  return { mean: u(b * d, 2), logStd: u(b * d, 1.5), eps: u(k * b * d, 2.5), weights: { z: u(k * b * d, 1), logQ: u(k * b, 1), kl: u(b, 1) } };
}

/** |got − want| ≤ tol·(1 + |want|) elementwise. */
function expectClose(got: number[], want: number[], tol: number, what: string) {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  expect(worst, what).toBeLessThanOrEqual(tol);
}

const NAMES = ['z', 'log q', 'KL', 'dμ', 'd log σ', 'dε'];

describe('fused diagonal-Normal kernels (sample, log q, KL)', () => {
  it('are used on wasm and cpu for μ, log σ [B, D] with ε [K, B, D], not with the speed fixes off nor for other shapes', async () => {
    const [m, s, e] = [tf.zeros([3, 2]), tf.zeros([3, 2]), tf.zeros([4, 3, 2])];
    expect(normalKernelsAvailable(m, s, e)).toBe(true);
    expect(normalKernelsAvailable(m, s)).toBe(true);
    expect(normalKernelsAvailable(m, tf.zeros([1, 2]), e)).toBe(false);
    expect(normalKernelsAvailable(m, s, tf.zeros([3, 2]))).toBe(false);
    setSpeedFixes(false);
    expect(normalKernelsAvailable(m, s, e)).toBe(false);
    setSpeedFixes(null);
    const info = await tf.profile(() => {
      const r = sampleDiagonalNormal(m, s, e as tf.Tensor3D);
      const kl = diagonalGaussianStandardNormalKl.kl(diagonalGaussian(m as tf.Tensor2D, s as tf.Tensor2D), undefined as never);
      tf.dispose([r.z, r.logQ, kl]);
    });
    expect(info.kernels.map((k) => k.name).filter((n) => n.startsWith('Vaekit')).sort()).toEqual([NORMAL_KL_KERNEL, NORMAL_LOG_Q_KERNEL, NORMAL_SAMPLE_KERNEL]);
    await tf.setBackend('cpu');
    expect(normalKernelsAvailable(m, s, e)).toBe(true);
    await tf.setBackend('wasm');
    tf.dispose([m, s, e]);
  });

  // The op path is tfjs's (speed fixes off); the kernels differ from it only in exp (the module's
  // own, within 1 float32 ulp) and the summation order of tfjs's Sum: a few float32 ulps.
  for (const [k, b, d] of [[1, 1, 1], [1, 7, 5], [3, 4, 50], [2, 100, 50]] as const) {
    it(`match the tfjs-op path in values and gradients for [K, B, D] = [${k}, ${b}, ${d}], on wasm and through the cpu copy`, async () => {
      const x = data(k * 1000 + b * 10 + d, k, b, d);
      const dims: [number, number, number] = [k, b, d];
      setSpeedFixes(false);
      const want = evaluate(x.mean, x.logStd, x.eps, dims, x.weights);
      setSpeedFixes(null);
      const onWasm = evaluate(x.mean, x.logStd, x.eps, dims, x.weights);
      await tf.setBackend('cpu');
      const onCpu = evaluate(x.mean, x.logStd, x.eps, dims, x.weights);
      await tf.setBackend('wasm');
      // The cpu copy runs the same WebAssembly on the same float32 inputs: the same bits.
      onCpu.forEach((v, i) => expect(v, NAMES[i]).toEqual(onWasm[i]));
      onWasm.forEach((v, i) => expectClose(v, want[i]!, 2e-6, NAMES[i]!));
    });
  }

  it('compute σ = e^{log σ} within 1 float32 ulp of e^x (5·2^18 points of [−104, 89]), ∞ above ln(max float32), subnormals and 0 below, NaN as NaN', () => {
    // z = 0 + σ·1 is σ itself, rounded once.
    const sigma = (logStd: Float32Array) =>
      tf.tidy(() => runHostKernel(NORMAL_SAMPLE_KERNEL, { mean: tf.zeros([1, logStd.length]), logStd: tf.tensor2d(logStd, [1, logStd.length]), eps: tf.ones([1, 1, logStd.length]) })[0]!.dataSync() as Float32Array);
    const n = 1 << 18;
    const want = new Float32Array(n);
    const [gotBits, wantBits] = [(a: Float32Array) => new Int32Array(a.buffer, a.byteOffset, a.length), (a: Float32Array) => new Int32Array(a.buffer)];
    let worst = 0;
    let exact = 0;
    for (const [lo, hi] of [[-104, 89], [-1, 1], [-20, 20], [-88, -86], [-104, -87]] as const) {
      const x = new Float32Array(n).map((_, i) => lo + ((hi - lo) * i) / n);
      const got = gotBits(sigma(x));
      for (let i = 0; i < n; i++) want[i] = Math.exp(x[i]!);
      const w = wantBits(want);
      for (let i = 0; i < n; i++) {
        // Both non-negative: the distance of the bit patterns is the distance in ulps.
        const d = Math.abs(got[i]! - w[i]!);
        worst = Math.max(worst, d);
        if (d === 0) exact++;
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(exact / (5 * n)).toBeGreaterThan(0.8);
    const special = new Float32Array([NaN, Infinity, -Infinity, 88.7228, 88.723, 100, -100, -103.9, -104, -1e30, 0, 1e30]);
    expect(Array.from(sigma(special))).toEqual([NaN, Infinity, 0, Math.fround(Math.exp(Math.fround(88.7228))), Infinity, Infinity, Math.fround(Math.exp(-100)), Math.fround(Math.exp(Math.fround(-103.9))), 0, 0, 1, Infinity]);
  });

  it('gives the closed forms exactly where they are exact: KL(N(0, 1) ‖ N(0, 1)) = 0, z = μ at ε = 0, log q = −(D/2) log 2π − Σ log σ', () => {
    const [m, s] = [tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 3]) as tf.Tensor2D];
    expect(Array.from(fusedNormalKl(m, s).dataSync())).toEqual([0, 0]);
    const mu = tf.tensor2d([[1, -2, 3]]);
    const logStd = tf.tensor2d([[0.5, -0.25, 1]]);
    const eps = tf.zeros([2, 1, 3]) as tf.Tensor3D;
    expect(Array.from(fusedNormalSample(mu, logStd, eps).dataSync())).toEqual([1, -2, 3, 1, -2, 3]);
    const { logQ } = sampleDiagonalNormal(mu, logStd, eps);
    const exact = -1.5 * Math.log(2 * Math.PI) - 1.25;
    for (const v of logQ.dataSync()) expect(v).toBeCloseTo(exact, 5);
    tf.dispose([m, s, mu, logStd, eps, logQ]);
  });

  it('reject shapes that do not match, naming them', () => {
    const [m, s, e] = [tf.zeros([3, 2]) as tf.Tensor2D, tf.zeros([3, 2]) as tf.Tensor2D, tf.zeros([4, 2, 2]) as tf.Tensor3D];
    expect(() => fusedNormalSample(m, s, e)).toThrow('VaekitNormalSample: expected parameters [B, D] and ε [K, B, D]; got [3, 2], [3, 2] and ε [4, 2, 2]');
    expect(() => fusedNormalKl(m, tf.zeros([3, 3]) as tf.Tensor2D)).toThrow('VaekitNormalKl: expected μ and log σ of one shape [B, D]; got [3, 2] and [3, 3]');
    tf.dispose([m, s, e]);
  });

  it('leak no tensors forward or backward', async () => {
    const x = data(9, 2, 5, 4);
    const [m, s, e] = [tf.variable(tf.tensor2d(x.mean, [5, 4])), tf.variable(tf.tensor2d(x.logStd, [5, 4])), tf.tensor3d(x.eps, [2, 5, 4])];
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => {
        const r = sampleDiagonalNormal(m, s, e);
        return tf.addN([tf.sum(r.z), tf.sum(r.logQ), tf.sum(fusedNormalKl(m, s))]) as tf.Scalar;
      }, [m, s]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([m, s, e]);
  });
});
