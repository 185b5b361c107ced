import { describe, expect, it } from 'vitest';
import { ContainerModule } from 'inversify';
import { ConfigError, PluginFactory, createVae, definePlugin, parseConfig, tf, z } from '../../plugins/index.js';
import type { NamedVariable, Prior, Random } from '../../plugins/index.js';

const base = { latentDim: 2, dataDim: 3, encoder: { type: 'gaussian', hidden: [4] }, likelihood: { type: 'bernoulli', hidden: [] } };

describe('createVae', () => {
  it('fails on an unknown plugin name with the field, the value and the choices', () => {
    expect(() => createVae({ ...base, encoder: { type: 'gausian' } })).toThrow(ConfigError);
    expect(() => createVae({ ...base, encoder: { type: 'gausian' } })).toThrow(
      /model\.encoder\.type: expected a registered encoder plugin: .*"gaussian".*; got "gausian"/,
    );
    expect(() => createVae({ ...base, likelihood: { type: 'poisson' } })).toThrow(/model\.likelihood\.type: .*"bernoulli", "gaussian".*got "poisson"/);
  });

  it('fails on a bad option with the field, the value and the expectation', () => {
    expect(() => createVae({ ...base, encoder: { type: 'gaussian', hidden: [200, 'x'] } })).toThrow(/model\.encoder\.hidden\[1\]: expected number.*got "x"/);
    expect(() => createVae({ ...base, encoder: { type: 'gaussian', activation: 'swish' } })).toThrow(/model\.encoder\.activation: expected one of .*"tanh".*got "swish"/);
    expect(() => createVae({ ...base, encoder: { type: 'gaussian', hiden: [3] } })).toThrow(/model\.encoder\.hiden: expected no such option.*got \[3\]/);
    expect(() => createVae({ ...base, latentDim: -1 })).toThrow(/model\.latentDim: expected a number > 0; got -1/);
    expect(() => createVae({ ...base, likelihood: { type: 'gaussian', sigma: 0 } })).toThrow(/model\.likelihood\.sigma: .*got 0/);
  });

  it('releases every tensor it made when a build fails', () => {
    createVae(base).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      expect(() => createVae({ ...base, likelihood: { type: 'poisson' } })).toThrow(ConfigError);
      expect(() => createVae({ ...base, prior: { type: 'nope' } })).toThrow(ConfigError);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('validates a whole config and fills its defaults', () => {
    const c = parseConfig({ model: base });
    expect(c.train).toMatchObject({ epochs: 10, batchSize: 100, learningRate: 0.001, objective: { type: 'elbo', samples: 1 }, seed: 1 });
    expect(c.data).toMatchObject({ name: 'mnist', binarize: 'dynamic' });
    expect(() => parseConfig({ model: base, train: { epochs: 'ten' } })).toThrow(/train\.epochs: expected number.*got "ten"/);
    expect(() => parseConfig({ model: base, data: { name: 'cifar' } })).toThrow(/data\.name: expected one of .*"mnist".*got "cifar"/);
    expect(() => parseConfig({ model: base, trian: {} })).toThrow(/trian: expected no such option \(known options: \$schema, model, data, train, eval, backend\)/);
  });

  it('gives the same weights for the same seed and different ones for another seed', () => {
    const a = createVae({ ...base, seed: 7 });
    const b = createVae({ ...base, seed: 7 });
    const c = createVae({ ...base, seed: 8 });
    const k = 'encoder/net/0/kernel';
    expect(Array.from(a.getWeights()[k]!.dataSync())).toEqual(Array.from(b.getWeights()[k]!.dataSync()));
    expect(Array.from(a.getWeights()[k]!.dataSync())).not.toEqual(Array.from(c.getWeights()[k]!.dataSync()));
    for (const v of [a, b, c]) v.dispose();
  });

  it('uses a custom prior contributed by a user ContainerModule in the bound', () => {
    /** p(z) = N(z; 0, s²I) with a trainable log s: a prior the core has never heard of. */
    class ScaledNormalPrior implements Prior {
      readonly name = 'scaled-normal';
      readonly kind = 'scaled-normal';
      readonly logScale: tf.Variable;
      constructor(readonly latentDim: number, scale: number, private readonly random: Random) {
        this.logScale = tf.variable(tf.scalar(Math.log(scale)));
      }
      logProb(z: tf.Tensor3D): tf.Tensor2D {
        return tf.tidy(() => {
          const e = tf.div(z, tf.exp(this.logScale));
          return tf.sub(tf.mul(tf.sum(tf.square(e), -1), -0.5), tf.add(tf.mul(this.logScale, this.latentDim), 0.5 * this.latentDim * Math.log(2 * Math.PI))) as tf.Tensor2D;
        });
      }
      sample(n: number): tf.Tensor2D {
        return tf.tidy(() => tf.mul(this.random.normal<tf.Rank.R2>([n, this.latentDim]), tf.exp(this.logScale)));
      }
      variables(): NamedVariable[] {
        return [{ name: 'logScale', variable: this.logScale }];
      }
      dispose(): void {
        this.logScale.dispose();
      }
    }
    const userModule = new ContainerModule(({ bind }) => {
      bind(PluginFactory).toConstantValue(
        definePlugin({
          role: 'prior',
          name: 'scaled-normal',
          description: 'N(0, s²I)',
          options: z.object({ scale: z.number().positive() }).strict(),
          create: (o, ctx) => new ScaledNormalPrior(ctx.latentDim, o.scale, ctx.random),
        }),
      );
    });
    const spec = { ...base, prior: { type: 'scaled-normal', scale: 3 } };
    const custom = createVae(spec, { plugins: [userModule], seed: 5 });
    const plain = createVae({ ...base }, { seed: 5 });
    expect(custom.prior.name).toBe('scaled-normal');
    expect(Object.keys(custom.getWeights())).toContain('prior/logScale');
    const x = tf.tensor2d([[1, 0, 1]]);
    // No KL rule matches (diagonal Gaussian vs scaled-normal): the bound falls back to Monte Carlo,
    // and the difference to the standard-normal model is exactly the prior's log-density difference.
    const r = custom.elbo(x, { samples: 3 });
    expect(r.klExact).toBe(false);
    const t = plain.terms(x, { samples: 3 });
    const z3 = t.z.arraySync();
    let expectedKl = 0;
    const lq = t.logQ.arraySync();
    for (let k = 0; k < 3; k++) {
      const sq = z3[k]![0]!.reduce((s, v) => s + v * v, 0);
      const logP = -sq / (2 * 9) - 2 * Math.log(3) - Math.log(2 * Math.PI);
      expectedKl += (lq[k]![0]! - logP) / 3;
    }
    expect(r.kl.dataSync()[0]).toBeCloseTo(expectedKl, 4);
    // Unknown options of the user plugin fail like the built-ins'.
    expect(() => createVae({ ...base, prior: { type: 'scaled-normal', scale: 'big' } }, { plugins: [userModule] })).toThrow(/model\.prior\.scale: expected number.*got "big"/);
    custom.dispose();
    plain.dispose();
  });
});
