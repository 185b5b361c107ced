import { describe, expect, it } from 'vitest';
import { Random, setSpeedFixes, tf } from '../../../plugins/index.js';
import { PLANAR_DET_FLOOR, PlanarFlow } from '../../../plugins/planar-flow/planar-flow.js';
import { planarKernelAvailable } from '../../../plugins/planar-flow/planar-kernel.js';
import { randomizeVariables } from '../../support/flow-harness.js';
import { describeFlowStep } from '../../support/flow-harness.js';
import { HOST_KERNEL_BACKEND, requires } from '../../support/requires.js';

describeFlowStep('planar, amortised on a context', {
  make: (d, c, random) => new PlanarFlow(d, c, random),
  inverse: true,
  paramScale: 0.7,
});
describeFlowStep('planar, global parameters', {
  make: (d, _c, random) => new PlanarFlow(d, 0, random),
  inverse: true,
  contextDim: 0,
  paramScale: 1.5,
});
describeFlowStep('planar, 3 steps amortised on a context (log-det of the composition)', {
  make: (d, c, random) => new PlanarFlow(d, c, random, 3),
  inverse: true,
  paramScale: 0.5,
  // The Jacobian of 3 composed steps is built in float32: the per-step tolerance, times 3.
  tolerance: 6e-4,
});
describeFlowStep('planar, 4 steps with global parameters (log-det of the composition)', {
  make: (d, _c, random) => new PlanarFlow(d, 0, random, 4),
  inverse: true,
  contextDim: 0,
  paramScale: 1,
});

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b)))).dataSync()[0]!;

/** One-step flows carrying step j's weights of `flow` (columns j·(2D + 1)… of the head, or row j). */
function singleSteps(flow: PlanarFlow): PlanarFlow[] {
  const d = flow.latentDim;
  const width = 2 * d + 1;
  return Array.from({ length: flow.count }, (_, j) => {
    const one = new PlanarFlow(d, flow.contextDim, new Random(0));
    tf.tidy(() => {
      if (flow.head) {
        one.head!.kernel.assign(tf.slice(flow.head.kernel, [0, j * width], [-1, width]));
        one.head!.bias.assign(tf.slice(flow.head.bias, [j * width], [width]));
      } else {
        for (const k of ['u', 'w', 'b'] as const) one[k]!.assign(tf.slice(flow[k]!, [j, 0], [1, -1]));
      }
    });
    return one;
  });
}

describe('planar flow of S steps', () => {
  it('runs on the host kernels here (wasm), and on tfjs ops with the speed fixes off', (ctx) => {
    requires(ctx, HOST_KERNEL_BACKEND);
    expect(planarKernelAvailable()).toBe(true);
    setSpeedFixes(false);
    try {
      expect(planarKernelAvailable()).toBe(false);
    } finally {
      setSpeedFixes(null);
    }
  });

  // Parameters at scale 0.5: the steps are far from volume preserving (|log-det| > 0.05) yet
  // well conditioned. (At scale 0.8 the 4-step map amplifies the float32 rounding of the
  // tfjs-op path ~1000-fold: the kernels, float64 inside, then differ from it by ~1e-4.)
  for (const c of [3, 0]) {
    it(`equals its steps applied one by one, as tfjs ops and as one-step kernels (${c ? 'amortised' : 'global'}; z to 5e-6, each log-det to 2e-6 nats)`, () => {
      const random = new Random(21 + c);
      const flow = new PlanarFlow(5, c, random, 4);
      randomizeVariables(flow, random, 0.5);
      const singles = singleSteps(flow);
      const context = c ? random.normal<tf.Rank.R2>([6, c]) : undefined;
      const z = tf.tidy(() => tf.mul(random.normal<tf.Rank.R3>([2, 6, 5]), 1.5)) as tf.Tensor3D;
      const each = flow.forwardEach(z, context);
      const ops = flow.forwardEachOps(z, context);
      const sum = flow.forward(z, context);
      expect(each.logDets.shape).toEqual([2, 6, 4]);
      expect(maxAbsDiff(each.z, ops.z)).toBeLessThan(5e-6);
      expect(maxAbsDiff(each.logDets, ops.logDets)).toBeLessThan(2e-6);
      let cur = z;
      let largest = 0;
      const seq: tf.Tensor[] = [];
      singles.forEach((step, j) => {
        const r = step.forward(cur, context);
        seq.push(r.z, r.logDet);
        const ld = tf.tidy(() => tf.squeeze(tf.slice(ops.logDets, [0, 0, j], [2, 6, 1]), [2]));
        expect(maxAbsDiff(r.logDet, ld)).toBeLessThan(2e-6);
        largest = Math.max(largest, tf.tidy(() => tf.max(tf.abs(ld))).dataSync()[0]!);
        ld.dispose();
        cur = r.z;
      });
      expect(largest).toBeGreaterThan(0.05); // the steps are far from volume preserving here
      expect(maxAbsDiff(cur, ops.z)).toBeLessThan(5e-6);
      expect(maxAbsDiff(sum.logDet, tf.tidy(() => tf.sum(each.logDets, -1)))).toBeLessThan(1e-5);
      tf.dispose([z, each.z, each.logDets, ops.z, ops.logDets, sum.z, sum.logDet, ...seq]);
      context?.dispose();
      flow.dispose();
      for (const s of singles) s.dispose();
    });
  }

  for (const [c, k, n] of [[3, 2, 4], [0, 3, 4], [3, 1, 4], [3, 2, 1], [0, 1, 1]] as const) {
    it(`has the gradients of tfjs autodiff through its tfjs-op reference (${n} step${n > 1 ? 's' : ''}, ${c ? 'amortised' : 'global'}, K = ${k}; variables, z and context to 1e-4 relative)`, () => {
      const random = new Random(31 + c + k + n);
      const flow = new PlanarFlow(5, c, random, n);
      randomizeVariables(flow, random, 0.5);
      const context = c ? random.normal<tf.Rank.R2>([6, c]) : undefined;
      const z = tf.tidy(() => tf.mul(random.normal<tf.Rank.R3>([k, 6, 5]), 1.5)) as tf.Tensor3D;
      const rz = random.normal<tf.Rank.R3>([k, 6, 5]);
      const rl = random.normal<tf.Rank.R3>([k, 6, n]);
      const vars = flow.variables().map((v) => v.variable);
      const loss = (f: (zz: tf.Tensor3D, h?: tf.Tensor2D) => { z: tf.Tensor; logDets: tf.Tensor }) => (zz: tf.Tensor3D, h?: tf.Tensor2D) => {
        const r = f(zz, h);
        return tf.add(tf.sum(tf.mul(r.z, rz)), tf.sum(tf.mul(r.logDets, rl))) as tf.Scalar;
      };
      const kernels = loss((zz, h) => flow.forwardEach(zz, h));
      const reference = loss((zz, h) => flow.forwardEachOps(zz, h));
      const grads = (f: (zz: tf.Tensor3D, h?: tf.Tensor2D) => tf.Scalar) => {
        const v = tf.variableGrads(() => f(z, context), vars);
        const inputs = c ? tf.grads((zz: tf.Tensor, h: tf.Tensor) => f(zz as tf.Tensor3D, h as tf.Tensor2D))([z, context!]) : tf.grads((zz: tf.Tensor) => f(zz as tf.Tensor3D))([z]);
        v.value.dispose();
        return [...vars.map((x) => v.grads[x.name]!), ...inputs];
      };
      const a = grads(kernels);
      const b = grads(reference);
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
      flow.dispose();
    });
  }

  for (const c of [6, 0]) {
    it(`starts where ${c ? 'amortised' : 'global'} single steps built in turn from the same seed start (layout: step j in columns/row j)`, () => {
      const flow = new PlanarFlow(4, c, new Random(5), 3);
      const random = new Random(5);
      const singles = [0, 1, 2].map(() => new PlanarFlow(4, c, random));
      const joined = singleSteps(flow);
      expect(flow.variables().map((v) => [v.name, v.variable.shape])).toEqual(
        c ? [['head/kernel', [6, 27]], ['head/bias', [27]]] : [['u', [3, 4]], ['w', [3, 4]], ['b', [3, 1]]],
      );
      singles.forEach((one, j) => {
        one.variables().forEach((v, i) => expect(Array.from(joined[j]!.variables()[i]!.variable.dataSync())).toEqual(Array.from(v.variable.dataSync())));
      });
      // Pyro's uniform(−1/√D, 1/√D) biases, nonzero; zero head weights.
      const values = Array.from((c ? flow.head!.bias : flow.u!).dataSync());
      expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(0.5);
      expect(new Set(values).size).toBe(values.length);
      if (c) expect(Math.max(...Array.from(flow.head!.kernel.dataSync(), Math.abs))).toBe(0);
      flow.dispose();
      for (const s of [...singles, ...joined]) s.dispose();
    });
  }
});

/** wᵀû in float64 from the float32 values of û and w, per row. */
function constrainedDots(u: number[][], w: number[][]): number[] {
  const ut = tf.tensor2d(u);
  const wt = tf.tensor2d(w);
  const { uHat, s } = PlanarFlow.constrain(ut, wt);
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

  for (const kernels of [true, false]) {
    it(`keeps 1 + ûᵀψ ≥ δ: the log-det is log δ (not −Inf) where wᵀu = −1e3 and tanh(wᵀz + b) = 0 (${kernels ? 'host kernels' : 'tfjs ops'})`, () => {
      const step = new PlanarFlow(2, 0, new Random(3));
      step.u!.assign(tf.tensor2d([[-1e3, 0]]));
      step.w!.assign(tf.tensor2d([[1, 0]]));
      step.b!.assign(tf.tensor2d([[0]]));
      const z = tf.tensor3d([0, 0, 0, 5, 1e3, -1e3], [1, 3, 2]);
      if (!kernels) setSpeedFixes(false);
      try {
        const r = step.forward(z, undefined);
        const ld = r.logDet.dataSync();
        const delta = PLANAR_DET_FLOOR + 1e-6 * 2 * 1 * 1e3; // δ = 1e-3 + 1e-6·D·‖w‖‖u‖
        expect(ld[0]).toBeCloseTo(Math.log(delta), 4);
        expect(ld[1]).toBeCloseTo(Math.log(delta), 4);
        expect(ld[2]).toBeCloseTo(0, 5); // tanh saturated: the step is locally the identity
        tf.dispose([r.z, r.logDet]);
      } finally {
        setSpeedFixes(null);
      }
      z.dispose();
      step.dispose();
    });
  }
});
