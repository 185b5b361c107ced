import { describe, expect, it } from 'vitest';
import { Random, createVae, tf } from '../../plugins/index.js';
import type { Encoder } from '../../plugins/index.js';
import { randomizeVariables } from '../support/flow-harness.js';
import { expectNoLeak } from '../support/memory.js';

// `sample(x)` skips joining the encoder's outputs into λ and splitting them again: it must give
// exactly what `sampleFromParams(params(x))` gives, values and gradients, with the same draws.
const encoders: [string, Record<string, unknown>][] = [
  ['gaussian', { type: 'gaussian', hidden: [6] }],
  ['planar ×3, amortised', { type: 'planar', hidden: [6], steps: 3 }],
  ['planar ×2, global', { type: 'planar', hidden: [6], steps: 2, amortized: false }],
  ['realnvp ×2', { type: 'realnvp', hidden: [6], couplings: 2 }],
];

describe('encoder sampling from x and from λ(x)', () => {
  for (const [label, spec] of encoders) {
    it(`agree for ${label} (z, log q and encoder gradients identical)`, async () => {
      const vae = createVae({ latentDim: 3, dataDim: 4, encoder: spec as never, likelihood: { type: 'gaussian', hidden: [5] } }, { seed: 2 });
      const enc: Encoder = vae.encoder;
      randomizeVariables(enc, new Random(3), 0.4); // flows far from the identity
      const x = new Random(4).normal<tf.Rank.R2>([5, 4]);
      const vars = vae.variables(['encoder']).map((v) => v.variable);
      const run = (direct: boolean) => {
        vae.random.reseed(7);
        const { value, grads } = tf.variableGrads(() => {
          const s = direct ? enc.sample(x, 2) : enc.sampleFromParams(enc.params(x), 2);
          return tf.add(tf.sum(tf.square(s.z)), tf.sum(s.logQ)) as tf.Scalar;
        }, vars);
        const out = [value, ...vars.map((v) => grads[v.name]!)].map((t) => Array.from(t.dataSync()));
        tf.dispose([value, ...Object.values(grads)]);
        return out;
      };
      const direct = run(true);
      expect(direct).toEqual(run(false));
      expect(direct.slice(1).every((g) => g.some((v) => v !== 0))).toBe(true); // every gradient is used
      await expectNoLeak(() => {
        const s = enc.sample(x, 2);
        tf.dispose([s.z, s.logQ, ...Object.values(s.posterior?.params ?? {})]);
      });
      x.dispose();
      vae.dispose();
    });
  }
});
