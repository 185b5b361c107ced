import { describe, expect, it } from 'vitest';
import { ConfigError, LOG_2PI, Random, createVae, tf } from '../../../plugins/index.js';
import type { ModelConfigInput, Vae } from '../../../plugins/index.js';
import { FlowEncoder, NonFiniteLogDetError } from '../../../plugins/flow-encoder/flow-encoder.js';
import { autodiffJacobian, logAbsDet, randomizeVariables } from '../../support/flow-harness.js';
import { expectNoLeak } from '../../support/memory.js';

function model(encoder: Record<string, unknown>, latentDim = 2, dataDim = 4): ModelConfigInput {
  return { latentDim, dataDim, encoder: encoder as never, likelihood: { type: 'gaussian', hidden: [8] } };
}

/** Makes every flow step far from the identity (RealNVP output layers start at zero). */
function perturbSteps(enc: FlowEncoder, seed: number, scale = 0.5): void {
  const random = new Random(seed);
  for (const step of enc.chain) randomizeVariables(step, random, scale);
}

describe('flow encoder config', () => {
  it('builds the steps of a "flow" spec by name, with counts, amortised on h(x)', () => {
    const vae = createVae(model({ type: 'flow', hidden: [16], steps: [{ type: 'planar', count: 3 }, { type: 'realnvp', count: 2, hidden: [8] }] }));
    const enc = vae.encoder as FlowEncoder;
    expect(enc.name).toBe('flow');
    expect(enc.steps.map((s) => s.step.name)).toEqual(['planar', 'planar', 'planar', 'realnvp', 'realnvp']);
    expect(enc.steps[4]!.label).toBe('realnvp step 2 of 2 (model.encoder.steps[1])');
    expect(enc.contextDim).toBe(16);
    const x = tf.ones([3, 4]) as tf.Tensor2D;
    const lambda = enc.params(x);
    expect(lambda.shape).toEqual([3, 2 * 2 + 16]);
    const names = vae.variables(['encoder']).map((v) => v.name);
    // The 3 planar steps share one head (named by the steps it covers); the couplings are one each.
    expect(names).toContain('encoder/steps/0-2/head/kernel');
    expect(names.some((n) => /steps\/[012]\/head/.test(n))).toBe(false);
    expect(names).toContain('encoder/steps/4/context/kernel');
    // Couplings alternate halves.
    expect((enc.steps[3]!.step as unknown as { parity: number }).parity).toBe(0);
    expect((enc.steps[4]!.step as unknown as { parity: number }).parity).toBe(1);
    // No closed form: the bound uses the Monte Carlo KL.
    const s = enc.sample(x, 2);
    expect(s.posterior).toBeUndefined();
    const r = vae.elbo(x, { samples: 2 });
    expect(r.klExact).toBe(false);
    tf.dispose([x, lambda, s.z, s.logQ, r.elbo, r.kl, r.reconstruction]);
    vae.dispose();
  });

  it('expands the shorthands { type: "planar", steps } and { type: "realnvp", couplings }', () => {
    const planar = createVae(model({ type: 'planar', hidden: [8], steps: 10 }));
    expect(planar.encoder.name).toBe('planar');
    expect((planar.encoder as FlowEncoder).steps.map((s) => s.step.name)).toEqual(Array(10).fill('planar'));
    const nvp = createVae(model({ type: 'realnvp', hidden: [8], couplings: 4, coupling: { hidden: [5, 5] } }, 3));
    const steps = (nvp.encoder as FlowEncoder).steps;
    expect(steps.map((s) => s.step.name)).toEqual(Array(4).fill('realnvp'));
    expect(steps.map((s) => (s.step as unknown as { parity: number }).parity)).toEqual([0, 1, 0, 1]);
    expect(nvp.variables(['encoder']).some((v) => v.name === 'encoder/steps/3/body/0/kernel')).toBe(true);
    planar.dispose();
    nvp.dispose();
  });

  it('gives global step parameters with "amortized": false (λ = [μ, log σ])', () => {
    const vae = createVae(model({ type: 'planar', hidden: [8], steps: 2, amortized: false }));
    const enc = vae.encoder as FlowEncoder;
    expect(enc.contextDim).toBe(0);
    expect(vae.variables(['encoder']).filter((v) => v.name.startsWith('encoder/steps/')).map((v) => v.name)).toEqual([
      'encoder/steps/0-1/u',
      'encoder/steps/0-1/w',
      'encoder/steps/0-1/b',
    ]);
    expect(vae.getWeights()['encoder/steps/0-1/u']!.shape).toEqual([2, 2]);
    const x = tf.ones([3, 4]) as tf.Tensor2D;
    const lambda = enc.params(x);
    expect(lambda.shape).toEqual([3, 4]);
    tf.dispose([x, lambda]);
    vae.dispose();
  });

  it('names the field, the value and the choices for an unknown step or a bad step option', () => {
    expect(() => createVae(model({ type: 'flow', steps: [{ type: 'planr' }] }))).toThrow(ConfigError);
    expect(() => createVae(model({ type: 'flow', steps: [{ type: 'planr' }] }))).toThrow(
      /model\.encoder\.steps\[0\]\.type: expected a registered flow-step plugin: .*"planar".*"realnvp".*got "planr"/,
    );
    expect(() => createVae(model({ type: 'flow', steps: [{ type: 'realnvp', hiden: [3] }] }))).toThrow(/model\.encoder\.steps\[0\]\.hiden/);
    expect(() => createVae(model({ type: 'realnvp', coupling: { logScaleBound: -1 } }))).toThrow(/model\.encoder\.coupling\.logScaleBound/);
    expect(() => createVae(model({ type: 'planar', steps: 0 }))).toThrow(/model\.encoder\.steps/);
    expect(() => createVae(model({ type: 'realnvp', hidden: [4] }, 1))).toThrow(/latentDim ≥ 2/);
  });
});

describe('flow encoder density', () => {
  for (const [title, encoder, d] of [
    ['planar + realnvp, amortised (D = 2)', { type: 'flow', hidden: [8], steps: [{ type: 'planar', count: 2 }, { type: 'realnvp', count: 2, hidden: [8] }] }, 2],
    ['realnvp + planar, amortised (D = 5)', { type: 'flow', hidden: [8], steps: [{ type: 'realnvp', count: 2, hidden: [8] }, { type: 'planar', count: 3 }] }, 5],
    ['planar, global parameters (D = 3)', { type: 'planar', hidden: [8], steps: 4, amortized: false }, 3],
  ] as const) {
    it(`gives log q = log q₀ − Σ log-dets, equal to a direct change of variables: ${title}`, () => {
      const vae = createVae(model(encoder, d), { seed: 5 });
      const enc = vae.encoder as FlowEncoder;
      perturbSteps(enc, 9);
      const random = new Random(2);
      const x = random.normal<tf.Rank.R2>([3, 4]);
      const lambda = enc.params(x);
      const state = vae.random.getState();
      const k = 2;
      const s = enc.sampleFromParams(lambda, k);
      // Replay ε, rebuild z₀, and push it through the whole flow; its Jacobian by autodiff.
      const replay = new Random();
      replay.setState(state);
      const eps = replay.normal<tf.Rank.R3>([k, 3, d]);
      const { mean, logStd, context } = enc.splitParams(lambda);
      const z0 = tf.add(mean, tf.mul(tf.exp(logStd), eps)) as tf.Tensor3D;
      const jac = autodiffJacobian((zz) => enc.flow(zz, context).z, z0);
      const e = eps.dataSync();
      const ls = logStd.dataSync();
      const logQ = s.logQ.dataSync();
      let worst = 0;
      let largestLogDet = 0;
      for (let kk = 0; kk < k; kk++) {
        for (let b = 0; b < 3; b++) {
          let logQ0 = -0.5 * d * LOG_2PI;
          for (let j = 0; j < d; j++) logQ0 += -0.5 * e[(kk * 3 + b) * d + j]! ** 2 - ls[b * d + j]!;
          const ld = logAbsDet(jac[kk]![b]!);
          largestLogDet = Math.max(largestLogDet, Math.abs(ld));
          worst = Math.max(worst, Math.abs(logQ0 - ld - logQ[kk * 3 + b]!));
        }
      }
      expect(worst).toBeLessThan(5e-4);
      expect(largestLogDet).toBeGreaterThan(0.1); // the flow changes the density noticeably
      const pushed = enc.flow(z0, context);
      const dz = tf.tidy(() => tf.max(tf.abs(tf.sub(pushed.z, s.z)))).dataSync()[0]!;
      expect(dz).toBeLessThan(1e-5);
      tf.dispose([x, lambda, s.z, s.logQ, eps, mean, logStd, z0, pushed.z, pushed.logDets]);
      context?.dispose();
      vae.dispose();
    });
  }

  it('has a RealNVP density that integrates to 1 and matches log q at its own samples (inverse path)', () => {
    const vae = createVae(model({ type: 'realnvp', hidden: [8], couplings: 4, coupling: { hidden: [8] } }), { seed: 6 });
    const enc = vae.encoder as FlowEncoder;
    perturbSteps(enc, 10, 0.4);
    const x = new Random(3).normal<tf.Rank.R2>([1, 4]);
    const lambda = enc.params(x);
    const s = enc.sampleFromParams(lambda, 5);
    const back = enc.logProb(s.z, lambda);
    const a = s.logQ.dataSync();
    const bq = back.dataSync();
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - bq[i]!)).toBeLessThan(1e-4);
    // ∫ q(z|x) dz by the midpoint rule on [−10, 10]², 300 × 300.
    const n = 300;
    const h = 20 / n;
    const pts = new Float32Array(n * n * 2);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        pts[(i * n + j) * 2] = -10 + (i + 0.5) * h;
        pts[(i * n + j) * 2 + 1] = -10 + (j + 0.5) * h;
      }
    }
    const grid = tf.tensor3d(pts, [n * n, 1, 2]);
    const lq = enc.logProb(grid, lambda);
    const mass = Array.from(lq.dataSync() as Float32Array).reduce((acc, v) => acc + Math.exp(v) * h * h, 0);
    expect(mass).toBeGreaterThan(0.99);
    expect(mass).toBeLessThan(1.01);
    tf.dispose([x, lambda, s.z, s.logQ, back, grid, lq]);
    vae.dispose();
  });

  it('runs a planar entry with a count as one stacked step (one head), equal to the same steps listed singly (z, log q to 2e-6 relative)', () => {
    const stacked = createVae(model({ type: 'flow', hidden: [8], steps: [{ type: 'planar', count: 3 }, { type: 'realnvp', count: 2 }] }, 3), { seed: 9 });
    const singly = createVae(
      model({ type: 'flow', hidden: [8], steps: [{ type: 'planar' }, { type: 'planar' }, { type: 'planar' }, { type: 'realnvp', count: 2 }] }, 3),
      { seed: 9 },
    );
    const a = stacked.encoder as FlowEncoder;
    const b = singly.encoder as FlowEncoder;
    expect(a.chain.map((s) => s.name)).toEqual(['planar', 'realnvp', 'realnvp']);
    expect(b.chain.length).toBe(5);
    expect(a.steps.map((s) => s.label)).toEqual([
      ...[1, 2, 3].map((k) => `planar step ${k} of 3 (model.encoder.steps[0])`),
      ...[1, 2].map((k) => `realnvp step ${k} of 2 (model.encoder.steps[1])`),
    ]);
    // The planar entry's one head holds the three steps' heads side by side (2D + 1 = 7 columns
    // each): with the same seed both start equal, and after perturbing the stacked model and
    // copying its weights into the single steps, both compute the same flow.
    const wa = stacked.getWeights();
    const same = (x: tf.Tensor, y: tf.Tensor) => expect(Array.from(x.dataSync())).toEqual(Array.from(y.dataSync()));
    const forSingles = (): Record<string, tf.Tensor> => {
      const out: Record<string, tf.Tensor> = {};
      for (const name of Object.keys(singly.getWeights())) {
        const m = /^encoder\/steps\/([012])\/head\/(kernel|bias)$/.exec(name);
        if (!m) out[name] = wa[name]!;
        else if (m[2] === 'kernel') out[name] = tf.slice(wa['encoder/steps/0-2/head/kernel']!, [0, 7 * Number(m[1])], [-1, 7]);
        else out[name] = tf.slice(wa['encoder/steps/0-2/head/bias']!, [7 * Number(m[1])], [7]);
      }
      return out;
    };
    const initial = forSingles();
    for (const [name, v] of Object.entries(singly.getWeights())) same(v, initial[name]!);
    perturbSteps(a, 4, 0.6);
    const perturbed = forSingles();
    singly.setWeights(perturbed);
    tf.dispose(Object.entries(initial).filter(([n]) => !wa[n]).map(([, t]) => t));
    tf.dispose(Object.entries(perturbed).filter(([n]) => !wa[n]).map(([, t]) => t));
    const x = new Random(2).normal<tf.Rank.R2>([5, 4]);
    const sa = a.sample(x, 3);
    const sb = b.sample(x, 3);
    // Float32 rounding between the single steps (the stack keeps z in float64 inside its kernel): relative 2e-6.
    const relDiff = (p: tf.Tensor, q: tf.Tensor) => tf.tidy(() => tf.div(tf.max(tf.abs(tf.sub(p, q))), tf.add(1, tf.max(tf.abs(q))))).dataSync()[0]!;
    expect(relDiff(sa.z, sb.z)).toBeLessThan(2e-6);
    expect(relDiff(sa.logQ, sb.logQ)).toBeLessThan(2e-6);
    // The planar steps are far from the identity here, so the comparison can fail.
    const z0 = new Random(3).normal<tf.Rank.R3>([2, 5, 3]);
    const h = tf.tidy(() => a.splitParams(a.params(x)).context!);
    const pushed = a.flow(z0, h);
    expect(pushed.logDets.shape).toEqual([2, 5, 5]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.slice(pushed.logDets, [0, 0, 0], [2, 5, 3])))).dataSync()[0]).toBeGreaterThan(0.05);
    tf.dispose([z0, h, pushed.z, pushed.logDets]);
    tf.dispose([x, sa.z, sa.logQ, sb.z, sb.logQ]);
    stacked.dispose();
    singly.dispose();
  });

  it('throws NonFiniteLogDetError naming the step when a log-det is not finite', () => {
    const vae = createVae(model({ type: 'flow', hidden: [8], steps: [{ type: 'planar', count: 3 }] }));
    const enc = vae.encoder as FlowEncoder;
    const bias = enc.steps[1]!.step.variables().find((v) => v.name === 'head/bias')!.variable;
    // Step 2's [u, w, b] are columns 5 … 9 of the joined head (2D + 1 = 5 per step): NaN there only.
    const bad = tf.tidy(() => tf.where(tf.logicalAnd(tf.greaterEqual(tf.range(0, 15), 5), tf.less(tf.range(0, 15), 10)), tf.fill([15], NaN), bias));
    bias.assign(bad);
    const x = tf.ones([2, 4]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    expect(() => enc.sample(x, 2)).toThrow(NonFiniteLogDetError);
    expect(() => enc.sample(x, 2)).toThrow(/planar step 2 of 3 \(model\.encoder\.steps\[0\]\) produced a non-finite log-det \(NaN\)/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([bad, x]);
    vae.dispose();
  });
});

describe('flow encoder parameters λ', () => {
  it('carry h(x), so optimising λ per row (the amortisation-gap evaluation) moves the flow too', () => {
    const vae = createVae(model({ type: 'planar', hidden: [8], steps: 3 }), { seed: 3 });
    const enc = vae.encoder as FlowEncoder;
    // Planar heads start with zero weights (every row the same map); give them some, as training would.
    const r = new Random(6);
    for (const [name, v] of Object.entries(vae.getWeights())) {
      if (/steps\/.*head\/kernel$/.test(name)) v.assign(tf.mul(r.normal(v.shape), 0.3));
    }
    const x = new Random(5).normal<tf.Rank.R2>([4, 4]);
    const lambda = enc.params(x);
    const g = tf.grad((l: tf.Tensor) => tf.sum(vae.elbo(x, { samples: 4, lambda: l as tf.Tensor2D }).elbo))(lambda);
    // Columns 2D.. of λ are h(x): the ELBO depends on them only through the flow's parameters.
    const contextGrad = tf.tidy(() => tf.max(tf.abs(tf.slice(g, [0, 4], [4, 8])))).dataSync()[0]!;
    expect(contextGrad).toBeGreaterThan(1e-4);
    const same = vae.elbo(x, { samples: 4, lambda });
    expect(same.elbo.shape).toEqual([4]);
    tf.dispose([x, lambda, g, same.elbo, same.kl, same.reconstruction]);
    vae.dispose();
  });
});

describe('flow encoder memory', () => {
  async function trainingStepsLeakNothing(vae: Vae): Promise<void> {
    const x = new Random(4).normal<tf.Rank.R2>([5, 4]);
    const vars = vae.variables().map((v) => v.variable);
    const opt = tf.train.adam(1e-3);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(vae.elbo(x, { samples: 3 }).elbo)) as tf.Scalar, vars);
      opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      tf.dispose([value]);
      tf.dispose(grads);
    };
    await expectNoLeak(step, 4);
    await expectNoLeak(() => {
      const r = vae.elbo(x, { samples: 3 });
      tf.dispose([r.elbo, r.kl, r.reconstruction]);
      const m = vae.encode(x);
      m.dispose();
    });
    opt.dispose();
    x.dispose();
  }

  it('keeps the tensor count flat across repeated training steps (planar and realnvp)', async () => {
    for (const encoder of [
      { type: 'planar', hidden: [8], steps: 4 },
      { type: 'realnvp', hidden: [8], couplings: 2, coupling: { hidden: [8] } },
      { type: 'realnvp', hidden: [8], couplings: 2, amortized: false },
    ]) {
      const vae = createVae(model(encoder, 3));
      await trainingStepsLeakNothing(vae);
      vae.dispose();
    }
  });

  it('releases every variable on dispose', () => {
    const before = tf.memory().numTensors;
    const vae = createVae(model({ type: 'flow', hidden: [8], steps: [{ type: 'planar', count: 2 }, { type: 'realnvp', count: 2 }] }));
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    vae.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
