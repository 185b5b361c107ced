/**
 * `vaekit/testing` on the built-in plugins (they pass) and on plugins broken in one way each (the
 * matching check fails, with the numbers in its message): the checks can fail.
 */
import { describe, expect, it } from 'vitest';
import { Random, tf, StandardNormalPriorForTest } from './fixtures.js';
import type { Encoder, FlowStep, Likelihood, Prior } from '../../plugins/index.js';
import { assertEncoder, assertLikelihood, assertPrior, buildPlugin, checkEncoder, checkFlowStep, checkLikelihood, checkPrior, PluginCheckError } from '../../src/testing/index.js';

const failed = (results: { name: string; passed: boolean; detail: string }[]) => results.filter((r) => !r.passed);

describe('vaekit/testing on the built-in plugins', () => {
  it('passes the standard-normal prior', () => {
    const r = assertPrior('standard-normal', { make: (D, random) => buildPlugin<Prior>('prior', { type: 'standard-normal' }, { latentDim: D, random }) });
    expect(r.map((x) => x.passed)).toEqual(r.map(() => true));
    expect(r.find((x) => x.name.includes('importance identity'))!.detail).toMatch(/E\[r\/p\] = (0\.99|1\.00)\d\d ± 0\.00\d\d/);
  });

  it('passes the Bernoulli likelihood (binary support) and the Gaussian one', () => {
    assertLikelihood('bernoulli', { support: 'binary', make: (D, P, random) => buildPlugin<Likelihood>('likelihood', { type: 'bernoulli', hidden: [8] }, { latentDim: D, dataDim: P, random }) });
    assertLikelihood('gaussian', { make: (D, P, random) => buildPlugin<Likelihood>('likelihood', { type: 'gaussian', hidden: [8] }, { latentDim: D, dataDim: P, random }) });
  });

  for (const spec of [
    { type: 'gaussian', hidden: [8] },
    { type: 'planar', hidden: [8], steps: 3 },
    { type: 'realnvp', hidden: [8], couplings: 2 },
    { type: 'hierarchical', hidden: [8] },
  ]) {
    it(`passes the ${spec.type} encoder`, () => {
      assertEncoder(spec.type, { make: (D, P, random) => buildPlugin<Encoder>('encoder', spec, { latentDim: D, dataDim: P, random }) });
    });
  }
});

/** A prior whose log-density is short of its normaliser by log 2 (it integrates to 2). */
class HalfNormalisedPrior extends StandardNormalPriorForTest {
  override logProb(z: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => tf.add(super.logProb(z), Math.LN2) as tf.Tensor2D);
  }
}

describe('vaekit/testing catches broken plugins', () => {
  it('fails a prior whose density integrates to 2, naming the log 2 it is off by', () => {
    const bad = failed(checkPrior({ make: (D, random) => new HalfNormalisedPrior(D, random) }));
    expect(bad.map((r) => r.name)).toEqual(['samples from the normalised density its logProb gives (importance identity)']);
    expect(bad[0]!.detail).toMatch(/E\[r\/p\] over 20000 draws = 0\.5\d*/);
    expect(bad[0]!.detail).toMatch(/about 0\.69\d nats/);
    expect(() => assertPrior('half', { make: (D, random) => new HalfNormalisedPrior(D, random) })).toThrow(PluginCheckError);
  });

  it('fails a likelihood whose mean is not the mean of its draws', () => {
    const make = (D: number, P: number, random: Random) => {
      const l = buildPlugin<Likelihood>('likelihood', { type: 'gaussian', hidden: [8] }, { latentDim: D, dataDim: P, random });
      // Delegates everything but mean, which is shifted by 0.1 (σ = 1, so 14 standard errors at 20000 draws).
      const shifted: Likelihood = {
        name: l.name,
        dataDim: l.dataDim,
        logProb: (x, z) => l.logProb(x, z),
        sample: (z) => l.sample(z),
        mean: (z) => tf.tidy(() => tf.add(l.mean(z), 0.1) as tf.Tensor3D),
        variables: () => l.variables(),
        dispose: () => l.dispose(),
      };
      return shifted;
    };
    const bad = failed(checkLikelihood({ make }));
    expect(bad.map((r) => r.name)).toEqual(['has mean(z) equal to the mean of its draws']);
  });

  it('fails an encoder whose samples carry no gradient (not reparameterised)', () => {
    const make = (D: number, P: number, random: Random) => {
      const e = buildPlugin<Encoder>('encoder', { type: 'gaussian', hidden: [8] }, { latentDim: D, dataDim: P, random });
      const sample = e.sample.bind(e);
      e.sample = (x, k) => {
        const s = sample(x, k);
        const z = tf.tensor3d(s.z.dataSync() as Float32Array, s.z.shape); // a constant: no gradient path to φ
        s.z.dispose();
        return { ...s, z };
      };
      return e;
    };
    const bad = failed(checkEncoder({ make }));
    expect(bad.map((r) => r.name)).toEqual(['is reparameterised: z and logQ have finite, non-zero gradients in the encoder variables']);
    expect(bad[0]!.detail).toMatch(/∂ mean\(z\)\/∂φ is zero/);
  });

  it('fails a flow step whose log-det is half the true one', () => {
    /** y = z·exp(tanh(a)) elementwise, global a; claims logDet = ½Σ tanh(a) (true: Σ tanh(a)). */
    const make = (D: number, _C: number, random: Random): FlowStep => {
      const a = tf.variable(random.normal([D]));
      return {
        name: 'bad-scale',
        forward: (z) => tf.tidy(() => ({ z: tf.mul(z, tf.exp(tf.tanh(a))) as tf.Tensor3D, logDet: tf.mul(tf.onesLike(tf.sum(z, 2)), tf.mul(0.5, tf.sum(tf.tanh(a)))) as tf.Tensor2D })),
        inverse: (z) => tf.tidy(() => ({ z: tf.mul(z, tf.exp(tf.neg(tf.tanh(a)))) as tf.Tensor3D, logDet: tf.mul(tf.onesLike(tf.sum(z, 2)), tf.mul(-0.5, tf.sum(tf.tanh(a)))) as tf.Tensor2D })),
        variables: () => [{ name: 'a', variable: a }],
        dispose: () => a.dispose(),
      };
    };
    const bad = failed(checkFlowStep({ make, inverse: true, contextDim: 0 }));
    expect(bad.map((r) => r.name)).toEqual([
      'matches log|det| of the autodiff Jacobian (D = 2, tolerance 0.0002 nats)',
      'matches log|det| of the autodiff Jacobian (D = 5, tolerance 0.0002 nats)',
    ]);
    expect(bad[0]!.detail).toMatch(/differs from log\|det\| of the autodiff Jacobian by up to/);
  });

  it('rejects a misspelt option key instead of ignoring it', () => {
    expect(() => checkPrior({ make: (D: number, random: Random) => new HalfNormalisedPrior(D, random), sample: 100 } as never)).toThrow(
      'priorChecks: unknown option "sample"; expected one of make, latentDim, samples, tolerance, seed',
    );
  });
});
