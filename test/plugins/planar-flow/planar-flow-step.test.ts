import { describe, expect, it } from 'vitest';
import { Random, tf } from '../../../plugins/index.js';
import { PLANAR_DET_FLOOR, PlanarFlowStack, PlanarFlowStep } from '../../../plugins/planar-flow/planar-flow-step.js';
import { randomizeVariables } from '../../support/flow-harness.js';
import { describeFlowStep } from '../../support/flow-harness.js';

describeFlowStep('planar, amortised on a context', {
  make: (d, c, random) => new PlanarFlowStep(d, c, random),
  inverse: false,
  paramScale: 0.7,
});
describeFlowStep('planar, global parameters', {
  make: (d, _c, random) => new PlanarFlowStep(d, 0, random),
  inverse: false,
  contextDim: 0,
  paramScale: 1.5,
});

describeFlowStep('planar stack of 3, amortised on a context (log-det of the whole stack)', {
  make: (d, c, random) => new PlanarFlowStack(d, c, random, 3),
  inverse: false,
  paramScale: 0.5,
  // The Jacobian of 3 composed steps is built in float32: the per-step tolerance, times 3.
  tolerance: 6e-4,
});
describeFlowStep('planar stack of 4, global parameters (log-det of the whole stack)', {
  make: (d, _c, random) => new PlanarFlowStack(d, 0, random, 4),
  inverse: false,
  contextDim: 0,
  paramScale: 1,
});

describe('planar stack', () => {
  for (const c of [3, 0]) {
    it(`equals its sub-steps applied one by one (${c ? 'amortised' : 'global'}; z to 1e-5, each log-det to 1e-5 nats)`, () => {
      const random = new Random(21 + c);
      const stack = new PlanarFlowStack(5, c, random, 4);
      randomizeVariables(stack, random, 0.8);
      const context = c ? random.normal<tf.Rank.R2>([6, c]) : undefined;
      const z = tf.tidy(() => tf.mul(random.normal<tf.Rank.R3>([2, 6, 5]), 1.5)) as tf.Tensor3D;
      const each = stack.forwardEach(z, context);
      const sum = stack.forward(z, context);
      expect(each.logDets.shape).toEqual([2, 6, 4]);
      let cur = z;
      let largest = 0;
      const seq: tf.Tensor[] = [];
      stack.substeps.forEach((step, j) => {
        const r = step.forward(cur, context);
        seq.push(r.z, r.logDet);
        const ld = tf.tidy(() => tf.squeeze(tf.slice(each.logDets, [0, 0, j], [2, 6, 1]), [2]));
        expect(tf.tidy(() => tf.max(tf.abs(tf.sub(ld, r.logDet)))).dataSync()[0]).toBeLessThan(1e-5);
        largest = Math.max(largest, tf.tidy(() => tf.max(tf.abs(r.logDet))).dataSync()[0]!);
        ld.dispose();
        cur = r.z;
      });
      expect(largest).toBeGreaterThan(0.05); // the steps are far from volume preserving here
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(each.z, cur)))).dataSync()[0]).toBeLessThan(1e-5);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(sum.logDet, tf.sum(each.logDets, -1))))).dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([z, each.z, each.logDets, sum.z, sum.logDet, ...seq]);
      context?.dispose();
      stack.dispose();
    });
  }

  for (const [c, k] of [[3, 2], [0, 3], [3, 1]] as const) {
    it(`has the gradients of its sub-steps applied one by one (${c ? 'amortised' : 'global'}, K = ${k}; variables, z and context to 1e-4 relative)`, () => {
      const random = new Random(31 + c + k);
      const stack = new PlanarFlowStack(5, c, random, 4);
      randomizeVariables(stack, random, 0.8);
      const context = c ? random.normal<tf.Rank.R2>([6, c]) : undefined;
      const z = tf.tidy(() => tf.mul(random.normal<tf.Rank.R3>([k, 6, 5]), 1.5)) as tf.Tensor3D;
      const rz = random.normal<tf.Rank.R3>([k, 6, 5]);
      const rl = random.normal<tf.Rank.R2>([k, 6]);
      const vars = stack.variables().map((v) => v.variable);
      const loss = (f: (zz: tf.Tensor3D, h?: tf.Tensor2D) => { z: tf.Tensor; logDet: tf.Tensor }) => (zz: tf.Tensor3D, h?: tf.Tensor2D) => {
        const r = f(zz, h);
        return tf.add(tf.sum(tf.mul(r.z, rz)), tf.sum(tf.mul(r.logDet, rl))) as tf.Scalar;
      };
      const stacked = loss((zz, h) => stack.forward(zz, h));
      const oneByOne = loss((zz, h) => {
        let cur: tf.Tensor3D = zz;
        let ld: tf.Tensor = tf.zeros([k, 6]);
        for (const step of stack.substeps) {
          const r = step.forward(cur, h);
          cur = r.z;
          ld = tf.add(ld, r.logDet);
        }
        return { z: cur, logDet: ld };
      });
      const grads = (f: (zz: tf.Tensor3D, h?: tf.Tensor2D) => tf.Scalar) => {
        const v = tf.variableGrads(() => f(z, context), vars);
        const inputs = c ? tf.grads((zz: tf.Tensor, h: tf.Tensor) => f(zz as tf.Tensor3D, h as tf.Tensor2D))([z, context!]) : tf.grads((zz: tf.Tensor) => f(zz as tf.Tensor3D))([z]);
        v.value.dispose();
        return [...vars.map((x) => v.grads[x.name]!), ...inputs];
      };
      const a = grads(stacked);
      const b = grads(oneByOne);
      expect(a.length).toBe(b.length);
      a.forEach((g, i) => {
        const want = b[i]!.dataSync();
        const got = g.dataSync();
        expect(got.length).toBe(want.length);
        const scale = Math.max(...Array.from(want, (x) => Math.abs(x)));
        expect(scale).toBeGreaterThan(1e-3); // every gradient is non-trivial, so the comparison can fail
        for (let j = 0; j < want.length; j++) expect(Math.abs(got[j]! - want[j]!)).toBeLessThan(1e-4 * (1 + scale));
      });
      tf.dispose([...a, ...b, z, rz, rl]);
      context?.dispose();
      stack.dispose();
    });
  }

  it('keeps the sub-steps\' initial weights: a stack of 3 equals 3 steps built in turn from the same seed', () => {
    const stack = new PlanarFlowStack(4, 6, new Random(5), 3);
    const random = new Random(5);
    const singles = [0, 1, 2].map(() => new PlanarFlowStep(4, 6, random));
    const a = stack.variables();
    const b = singles.flatMap((s, j) => s.variables().map((v) => ({ name: `${j}/${v.name}`, variable: v.variable })));
    expect(a.map((v) => v.name)).toEqual(b.map((v) => v.name));
    a.forEach((v, i) => expect(Array.from(v.variable.dataSync())).toEqual(Array.from(b[i]!.variable.dataSync())));
    stack.dispose();
    for (const s of singles) s.dispose();
  });
});

/** wᵀû in float64 from the float32 values of û and w, per row. */
function constrainedDots(u: number[][], w: number[][]): number[] {
  const ut = tf.tensor2d(u);
  const wt = tf.tensor2d(w);
  const { uHat, s } = PlanarFlowStep.constrain(ut, wt);
  const uh = uHat.arraySync();
  const out = w.map((row, i) => row.reduce((acc, wj, j) => acc + wj * uh[i]![j]!, 0));
  tf.dispose([ut, wt, uHat, s]);
  return out;
}

describe('planar constraint', () => {
  it('keeps wᵀû > −1 for random raw parameters at every scale', () => {
    const random = new Random(11);
    for (const scale of [0.01, 1, 10, 100, 1000]) {
      for (const d of [2, 5, 50]) {
        const u = Array.from({ length: 64 }, () => Array.from({ length: d }, () => scale * random.gaussian()));
        const w = Array.from({ length: 64 }, () => Array.from({ length: d }, () => scale * random.gaussian()));
        for (const dot of constrainedDots(u, w)) expect(dot).toBeGreaterThan(-1);
      }
    }
  });

  it('keeps wᵀû > −1 for adversarial raw parameters (u anti-aligned with w, tiny w, wᵀu ≪ −1)', () => {
    const random = new Random(12);
    const u: number[][] = [];
    const w: number[][] = [];
    for (const wNorm of [1e-6, 1e-3, 1, 1e3]) {
      for (const a of [-1e3, -30, -17, -1.0001, -1, -0.999, 0]) {
        // u = (a/‖w‖²)·w + (a component orthogonal to w), so wᵀu = a exactly in real arithmetic.
        const dir = [random.gaussian(), random.gaussian(), random.gaussian()];
        const n = Math.hypot(...dir);
        const wv = dir.map((v) => (wNorm * v) / n);
        const orth = [dir[1]!, -dir[0]!, 0].map((v) => 5 * v);
        w.push(wv);
        u.push(wv.map((v, j) => (a / (wNorm * wNorm)) * v + orth[j]!));
      }
    }
    w.push([0, 0, 0]);
    u.push([-1e3, 1e3, 5]); // w = 0: û = u and wᵀû = 0
    const dots = constrainedDots(u, w);
    for (const dot of dots) expect(dot).toBeGreaterThan(-1);
    // In the well-conditioned cases wᵀû equals m(wᵀu) = −1 + δ + softplus(wᵀu), δ = 1e-3 + 1e-6·D·‖w‖‖u‖.
    const i = 2 * 7 + 3; // ‖w‖ = 1, a = −1.0001
    const delta = PLANAR_DET_FLOOR + 1e-6 * 3 * Math.hypot(...w[i]!) * Math.hypot(...u[i]!);
    expect(dots[i]!).toBeCloseTo(-1 + delta + Math.log1p(Math.exp(-1.0001)), 5);
  });

  it('keeps 1 + ûᵀψ ≥ δ: the log-det is log δ (not −Inf) where wᵀu = −1e3 and tanh(wᵀz + b) = 0', () => {
    const step = new PlanarFlowStep(2, 0, new Random(3));
    step.u!.assign(tf.tensor1d([-1e3, 0]));
    step.w!.assign(tf.tensor1d([1, 0]));
    step.b!.assign(tf.tensor1d([0]));
    const z = tf.tensor3d([0, 0, 0, 5, 1e3, -1e3], [1, 3, 2]);
    const r = step.forward(z, undefined);
    const ld = r.logDet.dataSync();
    const delta = PLANAR_DET_FLOOR + 1e-6 * 2 * 1 * 1e3; // δ = 1e-3 + 1e-6·D·‖w‖‖u‖
    expect(ld[0]).toBeCloseTo(Math.log(delta), 4);
    expect(ld[1]).toBeCloseTo(Math.log(delta), 4);
    expect(ld[2]).toBeCloseTo(0, 5); // tanh saturated: the step is locally the identity
    tf.dispose([z, r.z, r.logDet]);
    step.dispose();
  });
});
