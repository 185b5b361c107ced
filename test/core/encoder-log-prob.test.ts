import { beforeAll, describe, expect, it } from 'vitest';
import { Random, createVae, tf, type Encoder } from '../../plugins/index.js';
import { randomizeVariables } from '../support/flow-harness.js';

/**
 * Encoder.logProb(z, λ) against the logQ that sampling returns, for every built-in encoder that
 * implements it: the same density at the same points. Exact families (Gaussian; RealNVP through
 * its closed-form inverse) to float32 rounding; planar through its numerical inverse.
 */
const P = 10;
const D = 4;
// Made once the suite's backend is selected (a tensor made at import time lives on tfjs's default backend).
let x: tf.Tensor2D;
beforeAll(() => {
  x = tf.tidy(() => tf.cast(tf.greater(new Random(3).normal([6, P]), 0.3), 'float32')) as tf.Tensor2D;
});

function encoder(spec: object): Encoder {
  const vae = createVae({ latentDim: D, dataDim: P, encoder: spec as { type: string }, likelihood: { type: 'bernoulli', hidden: [8] }, seed: 5 });
  // away from the initial (near-identity) flows
  randomizeVariables(vae.encoder, new Random(9), 0.4);
  return vae.encoder;
}

const CASES: [string, object, number][] = [
  ['gaussian', { type: 'gaussian', hidden: [16] }, 1e-4],
  ['realnvp (4 couplings)', { type: 'realnvp', hidden: [16], couplings: 4 }, 5e-4],
  ['planar (6 steps, numerical inverse)', { type: 'planar', hidden: [16], steps: 6 }, 2e-3],
  ['flow: planar ×2 then realnvp ×2, global parameters', { type: 'flow', hidden: [16], amortized: false, steps: [{ type: 'planar', count: 2 }, { type: 'realnvp', count: 2 }] }, 2e-3],
];

describe('Encoder.logProb', () => {
  for (const [name, spec, tol] of CASES) {
    it(`equals the sampled logQ for ${name} (to ${tol} nats)`, () => {
      const enc = encoder(spec);
      const lambda = enc.params(x);
      const s = enc.sampleFromParams(lambda, 7);
      const lq = enc.logProb!(s.z, lambda);
      const a = s.logQ.dataSync();
      const b = lq.dataSync();
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst).toBeLessThan(tol);
      // the check can fail: log q varies over the samples by far more than the tolerance
      expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(1);
      tf.dispose([lambda, s.z, s.logQ, lq]);
      enc.dispose();
    });
  }

  // ∂ log q(z; φ)/∂φ at fixed z, through planar's numerical inverse (the implicit-function Newton
  // step), against central differences: per variable, along a unit-norm random direction, step
  // h = 3e-3 (float32: the difference quotient of a sum of 12 log-densities of size ~10 is good to
  // ~1e-3). On the suite's backend and on cpu (where the host kernels read cast inputs by value).
  for (const on of ['suite', 'cpu'] as const) {
    it(`differentiates planar's numerical inverse: ∂ log q(z; φ)/∂φ at fixed z matches central differences (${on} backend)`, async () => {
      const before = tf.getBackend();
      if (on === 'cpu') await tf.setBackend('cpu');
      try {
        const xs = tf.tidy(() => tf.cast(tf.greater(new Random(3).normal([6, P]), 0.3), 'float32')) as tf.Tensor2D;
        const enc = encoder({ type: 'planar', hidden: [16], steps: 3 });
        const z = tf.tidy(() => enc.sampleFromParams(enc.params(xs), 2).z);
        const f = () => tf.tidy(() => tf.sum(enc.logProb!(z, enc.params(xs)))) as tf.Scalar;
        const h = 3e-3;
        let largest = 0;
        for (const { name, variable } of enc.variables()) {
          const dir = tf.tidy(() => {
            const r = new Random(21).normal(variable.shape);
            return tf.div(r, tf.norm(r));
          });
          const { value, grads } = tf.variableGrads(f, [variable]);
          const analytic = tf.sum(tf.mul(grads[variable.name]!, dir)).dataSync()[0]!;
          const orig = variable.clone();
          variable.assign(tf.tidy(() => tf.add(orig, tf.mul(dir, h))));
          const up = f().dataSync()[0]!;
          variable.assign(tf.tidy(() => tf.sub(orig, tf.mul(dir, h))));
          const down = f().dataSync()[0]!;
          variable.assign(orig);
          const numeric = (up - down) / (2 * h);
          largest = Math.max(largest, Math.abs(numeric));
          expect(Math.abs(analytic - numeric), `${name}: analytic ${analytic}, central difference ${numeric}`).toBeLessThan(0.01 * Math.abs(numeric) + 0.02);
          tf.dispose([dir, value, orig, ...Object.values(grads)]);
        }
        // the check can fail: the derivatives are far from 0
        expect(largest).toBeGreaterThan(1);
        tf.dispose([xs, z]);
        enc.dispose();
      } finally {
        await tf.setBackend(before);
      }
    });
  }
});
