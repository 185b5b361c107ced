import { describe, expect, it } from 'vitest';
import { Random, tf } from '../../../plugins/index.js';
import { RealNvpCouplingStep } from '../../../plugins/realnvp-flow/realnvp-coupling-step.js';
import { describeFlowStep } from '../../support/flow-harness.js';

const options = { hidden: [16, 16], activation: 'tanh' as const, logScaleBound: 3 };

describeFlowStep('realnvp coupling (parity 0), amortised on a context', {
  make: (d, c, random) => new RealNvpCouplingStep(d, c, 0, options, random),
  inverse: true,
});
describeFlowStep('realnvp coupling (parity 1), global parameters, relu', {
  make: (d, _c, random) => new RealNvpCouplingStep(d, 0, 1, { ...options, activation: 'relu' }, random),
  inverse: true,
  contextDim: 0,
});

describe('realnvp coupling', () => {
  it('keeps one half unchanged, alternating with the parity, and starts at the identity', () => {
    const random = new Random(5);
    const z = random.normal<tf.Rank.R3>([2, 3, 5]);
    const ctx = random.normal<tf.Rank.R2>([3, 4]);
    for (const parity of [0, 1] as const) {
      const step = new RealNvpCouplingStep(5, 4, parity, options, random);
      const fresh = step.forward(z, ctx);
      expect(Math.max(...tf.tidy(() => tf.abs(tf.sub(fresh.z, z))).dataSync())).toBe(0);
      expect(Math.max(...fresh.logDet.dataSync().map(Math.abs))).toBe(0);
      for (const { variable } of step.variables()) {
        const v = tf.tidy(() => tf.add(variable, tf.mul(random.normal(variable.shape), 0.5)));
        variable.assign(v);
        v.dispose();
      }
      const r = step.forward(z, ctx);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(r.z, z)), [0, 1])).dataSync();
      const kept = parity === 0 ? [0, 1, 2] : [3, 4];
      const changed = parity === 0 ? [3, 4] : [0, 1, 2];
      for (const j of kept) expect(diff[j]).toBe(0);
      for (const j of changed) expect(diff[j]).toBeGreaterThan(1e-2);
      tf.dispose([fresh.z, fresh.logDet, r.z, r.logDet]);
      step.dispose();
    }
    tf.dispose([z, ctx]);
  });

  it('bounds each log-scale by logScaleBound, whatever the raw parameters', () => {
    const random = new Random(6);
    const step = new RealNvpCouplingStep(4, 0, 0, { ...options, logScaleBound: 2 }, random);
    for (const { variable } of step.variables()) {
      const v = tf.tidy(() => tf.mul(random.normal(variable.shape), 1e3));
      variable.assign(v);
      v.dispose();
    }
    const z = tf.tidy(() => tf.mul(random.normal([5, 6, 4]), 10)) as tf.Tensor3D;
    const r = step.forward(z);
    // 2 transformed dimensions, each |log s| < 2.
    for (const v of r.logDet.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(4);
    expect(Math.max(...r.logDet.dataSync().map(Math.abs))).toBeGreaterThan(3);
    tf.dispose([z, r.z, r.logDet]);
    step.dispose();
  });
});
