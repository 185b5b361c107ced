import { describe, expect, it } from 'vitest';
import { Random, createQuadratureVae, createVae, quadratureLogPx, quadratureRows, tf } from '../../../plugins/index.js';
import { MixtureEncoder } from '../../../plugins/mixture-encoder/mixture-encoder.js';
import { stratifiedElbo, stratifiedIwae } from '../../../plugins/mixture-encoder/stratified-bounds.js';
import { parseObjective, trainEncoder } from '../../../bench/multimodal-train.js';
import { posteriorGrid } from '../../../src/eval/posterior-grid.js';
import { train } from '../../../src/train/trainer.js';

const mean = (t: tf.Tensor) => {
  const v = tf.mean(t);
  const out = v.dataSync()[0]!;
  v.dispose();
  return out;
};

describe('mixture encoder', () => {
  it('log q(z|x) equals the mixture density Σ_c π_c N(z; μ_c, σ_c²) computed directly in float64', () => {
    const vae = createVae({ latentDim: 3, dataDim: 4, encoder: { type: 'mixture', hidden: [8], components: 3 }, likelihood: { type: 'gaussian', hidden: [8] }, seed: 5 });
    const enc = vae.encoder as MixtureEncoder;
    const r = new Random(6);
    const x = tf.tensor2d(Float32Array.from({ length: 8 }, () => r.gaussian()), [2, 4]);
    const lambda = enc.params(x);
    const z = tf.tensor3d(Float32Array.from({ length: 5 * 2 * 3 }, () => 2 * r.gaussian()), [5, 2, 3]);
    const got = enc.logProb(z, lambda).dataSync();
    const lam = lambda.dataSync();
    const zs = z.dataSync();
    const L = 3 * (1 + 2 * 3);
    for (let k = 0; k < 5; k++) {
      for (let b = 0; b < 2; b++) {
        const row = lam.subarray(b * L, (b + 1) * L);
        const logits = Array.from(row.subarray(0, 3));
        const m = Math.max(...logits);
        const norm = logits.reduce((s, v) => s + Math.exp(v - m), 0);
        let p = 0;
        for (let c = 0; c < 3; c++) {
          let dens = Math.exp(logits[c]! - m) / norm;
          for (let d = 0; d < 3; d++) {
            const mu = row[3 + c * 3 + d]!;
            const s = Math.exp(row[3 + 9 + c * 3 + d]!);
            const v = zs[(k * 2 + b) * 3 + d]!;
            dens *= Math.exp(-0.5 * ((v - mu) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
          }
          p += dens;
        }
        expect(got[k * 2 + b]).toBeCloseTo(Math.log(p), 4);
      }
    }
    tf.dispose([x, lambda, z]);
    vae.dispose();
  });

  it('draws each component with probability π_c and reports the mixture log q of the draw; no leaks; names a bad λ', () => {
    const vae = createVae({ latentDim: 2, dataDim: 1, encoder: { type: 'mixture', hidden: [], components: 2, spread: 0 }, likelihood: { type: 'gaussian', hidden: [4] }, seed: 5 });
    const enc = vae.encoder as MixtureEncoder;
    // λ by hand: π = (0.3, 0.7), μ₁ = (−5, 0), μ₂ = (5, 0), σ = 0.1.
    const lambda = tf.tensor2d([[Math.log(0.3), Math.log(0.7), -5, 0, 5, 0, Math.log(0.1), Math.log(0.1), Math.log(0.1), Math.log(0.1)]]);
    tf.dispose(Object.values(enc.sampleFromParams(lambda, 1))); // first call: backend constants
    const before = tf.memory().numTensors;
    const s = enc.sampleFromParams(lambda, 20000);
    const z = s.z.dataSync();
    let right = 0;
    for (let k = 0; k < 20000; k++) if (z[2 * k]! > 0) right++;
    expect(Math.abs(right / 20000 - 0.7)).toBeLessThan(0.01); // 3.1 standard errors
    const direct = enc.logProb(s.z, lambda);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(direct, s.logQ))).dataSync()[0])).toBe(0);
    tf.dispose([s.z, s.logQ, direct]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => enc.sampleFromParams(tf.zeros([1, 7]) as tf.Tensor2D, 1)).toThrow(/expected λ of shape \[B, 10\] \(C = 2, D = 2\); got \[1, 7\]/);
    lambda.dispose();
    vae.dispose();
  });

  it('trains through its draws: the gradient of a bound reaches every variable with the stratified bounds, and the mixture weights only through log q with `sample`', () => {
    const vae = createQuadratureVae({ type: 'mixture', hidden: [8], components: 2 });
    const x = tf.tensor2d([[1.5], [0.3]]);
    const named = vae.variables(['encoder']);
    const gradsOf = (f: () => tf.Scalar) => {
      const { grads, value } = tf.variableGrads(f, named.map((v) => v.variable));
      const out = Object.fromEntries(named.map((v) => [v.name, mean(tf.abs(grads[v.variable.name]!))]));
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const stratified = gradsOf(() => tf.neg(tf.mean(stratifiedIwae(vae, x, { samples: 3 }))) as tf.Scalar);
    for (const [name, g] of Object.entries(stratified)) {
      expect(Number.isFinite(g), name).toBe(true);
      expect(g, name).toBeGreaterThan(0);
    }
    // Through ancestral draws the discrete choice carries no gradient, but log q still reaches the logits.
    const ancestral = gradsOf(() => tf.neg(tf.mean(vae.iwae(x, { samples: 3 }))) as tf.Scalar);
    expect(ancestral['encoder/logits/bias']).toBeGreaterThan(0);
    x.dispose();
    vae.dispose();
  });
});

describe('stratified bounds', () => {
  it('SIELBO ≤ SIWAE_1 ≤ SIWAE_10 ≤ exact log p(x) on the quadrature model, SIWAE rising with K, and SIELBO estimates the mixture ELBO', () => {
    const model = { kind: 'connected' as const, sigma: 0.25 };
    const vae = createQuadratureVae({ type: 'mixture', hidden: [16], components: 3 }, { ...model, seed: 4 });
    const xs = [1.2, -0.4, 0.1, 2.0];
    const exact = xs.reduce((s, v) => s + quadratureLogPx(v, model), 0) / xs.length;
    const x = tf.tensor2d(xs, [4, 1]);
    vae.random.reseed(9);
    const reps = (f: () => tf.Tensor1D, n: number) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const t = f();
        s += mean(t) / n;
        t.dispose();
      }
      return s;
    };
    const sielboReps = Array.from({ length: 8 }, () => {
      const t = stratifiedElbo(vae, x, { samples: 500 });
      const v = mean(t);
      t.dispose();
      return v;
    });
    const sielbo = sielboReps.reduce((a, b) => a + b) / 8;
    const seStrat = Math.sqrt(sielboReps.reduce((a, v) => a + (v - sielbo) ** 2, 0) / 7 / 8);
    const siwae1 = reps(() => stratifiedIwae(vae, x, { samples: 1 }), 2000);
    const siwae10 = reps(() => stratifiedIwae(vae, x, { samples: 10 }), 400);
    const K = 20000;
    const lw = vae.logWeights(x, { samples: K });
    const w = lw.dataSync();
    lw.dispose();
    let elbo = 0;
    for (const v of w) elbo += v / w.length;
    // Standard error of the mean over rows of each row's mean log w.
    let varSum = 0;
    for (let b = 0; b < 4; b++) {
      let m = 0;
      for (let k = 0; k < K; k++) m += w[k * 4 + b]! / K;
      let v = 0;
      for (let k = 0; k < K; k++) v += (w[k * 4 + b]! - m) ** 2 / (K - 1);
      varSum += v / K;
    }
    const seAnc = Math.sqrt(varSum) / 4;
    expect(sielbo).toBeLessThan(siwae1);
    expect(siwae1).toBeLessThan(siwae10);
    expect(siwae10).toBeLessThan(exact);
    // E[SIELBO] = the mixture's ELBO E_q[log w]: the stratified and the ancestral estimates agree within 4 standard errors.
    expect(Math.abs(sielbo - elbo)).toBeLessThan(4 * Math.hypot(seStrat, seAnc));
    expect(() => stratifiedElbo(createQuadratureVae({ type: 'gaussian', hidden: [4] }), x)).toThrow(/stratified-elbo: needs the mixture encoder .* got encoder "gaussian"/);
    x.dispose();
    vae.dispose();
  });

  it('a 2-component mixture trained with SIELBO (K = 4) covers both of two far-apart equal-mass modes: gap < 0.35 nats (log 2 = 0.69 is the one-mode gap)', async () => {
    // x ~ N(z₁², 0.25²) with x ∈ [1.5, 4]: modes z₁ = ±√x (1.2–2 apart from 0), widths ≈ 0.06–0.1.
    const model = { kind: 'two-modes' as const, sigma: 0.25 };
    const xs = [1.5, 2, 2.5, 3, 3.5, 4, 1.7, 2.8];
    const data = quadratureRows(xs, 'two-modes');
    const exact = xs.reduce((s, v) => s + quadratureLogPx(v, model), 0) / xs.length;
    const vae = createQuadratureVae({ type: 'mixture', hidden: [32, 32], components: 2 }, { ...model, seed: 3 });
    trainEncoder(vae, data, parseObjective('sielbo:4'), { steps: 1500, learningRate: 5e-3 });
    const x = tf.tensor2d(data.x, [8, 1]);
    vae.random.reseed(5);
    const t = stratifiedElbo(vae, x, { samples: 4000 });
    const gap = exact - mean(t);
    t.dispose();
    x.dispose();
    // Measured 0.111 (seed 3, SIELBO with K = 4 per component, 1500 steps); a one-mode q cannot go below
    // log 2. Not every initialisation finds both modes: seeds 4 and 5 gave 0.158 and 0.730 (both
    // components pulled to one mode) — bench/multimodal.ts reports the spread over seeds.
    expect(gap).toBeGreaterThan(-0.02);
    expect(gap).toBeLessThan(0.35);
    // The picture's q is the mixture's own density.
    const g = await posteriorGrid(vae, [2.5], { samples: 500 });
    expect(g.qSource).toBe('exact');
    expect(Math.abs(g.gridLogPx - quadratureLogPx(2.5, model))).toBeLessThan(1e-3);
    vae.dispose();
  });
});

describe('stratified objectives through the objective role', () => {
  it('trains from config ({ "type": "stratified-elbo", "samples": 3 }) and refuses an encoder without components', async () => {
    const model = { kind: 'two-modes' as const, sigma: 0.25 };
    const data = quadratureRows([1.5, 2, 3, 4], 'two-modes');
    const vae = createQuadratureVae({ type: 'mixture', hidden: [8], components: 2 }, { ...model, seed: 3 });
    expect(vae.objective({ type: 'stratified-iwae', samples: 3 }).label).toBe('stratified-iwae K=3');
    const x = tf.tensor2d(data.x, [4, 1]);
    const bound = () => {
      vae.random.reseed(7);
      const t = stratifiedElbo(vae, x, { samples: 500 });
      const v = mean(t);
      t.dispose();
      return v;
    };
    const before = bound();
    const h = await train(vae, data, { epochs: 100, batchSize: 4, learningRate: 1e-2, seed: 1, freeze: ['likelihood', 'prior'], objective: { type: 'stratified-elbo', samples: 3 }, quiet: true, progress: false });
    expect(h.epochs).toHaveLength(100);
    // SIELBO (500 draws per component) rose from −49.2 to −3.4 when measured.
    expect(bound()).toBeGreaterThan(before + 20);
    x.dispose();
    vae.dispose();
    const g = createQuadratureVae({ type: 'gaussian', hidden: [8] }, model);
    expect(() => g.objective({ type: 'stratified-elbo' })).toThrow(
      'train.objective.type: expected "elbo" or "iwae" with the "gaussian" encoder ("stratified-elbo" draws from every component of the "mixture" encoder); got "stratified-elbo"',
    );
    g.dispose();
  });
});
