import { ContainerModule } from 'inversify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ElboObjective, PluginFactory, Random, createVae, definePlugin, tf, type Objective, type ObjectiveContext, type Vae } from '../../plugins/index.js';
import { train } from '../../src/train/trainer.js';
import { listPlugins, formatPlugins } from '../../src/cli/plugins-command.js';
import type { Dataset } from '../../src/data/dataset.js';

const quiet = { quiet: true, progress: false } as const;

function binaryRows(rows: number, dim: number, seed: number): Dataset {
  const r = new Random(seed);
  const x = new Float32Array(rows * dim).map(() => (r.uniform() < 0.3 ? 1 : 0));
  return { name: 'rows', x, rows, dim, binarize: 'none' };
}

const smallVae = (plugins: ContainerModule[] = [], encoder: object = { type: 'gaussian', hidden: [8] }, prior: object = { type: 'standard-normal' }): Vae =>
  createVae({ latentDim: 3, dataDim: 12, encoder: encoder as { type: string }, prior: prior as { type: string }, likelihood: { type: 'bernoulli', hidden: [8] }, seed: 2 }, { plugins });

const weights = (vae: Vae) => Object.fromEntries(Object.entries(vae.getWeights()).map(([n, v]) => [n, Array.from(v.dataSync())]));

/** A user objective: the ELBO scaled by `scale`, counting its calls (defined here, not in the core). */
const calls: number[] = [];
const scaledElbo = definePlugin({
  role: 'objective',
  name: 'scaled-elbo',
  description: 'scale × ELBO (a test objective)',
  options: z.object({ scale: z.number().positive().default(1) }).strict(),
  create: (o): Objective => {
    const inner = new ElboObjective({ samples: 1, beta: 1, gradient: 'reparam' });
    return {
      name: 'scaled-elbo',
      label: `scaled-elbo ×${o.scale}`,
      separateEncoderLoss: false,
      compute(vae: Vae, x: tf.Tensor2D, ctx: ObjectiveContext) {
        calls.push(o.scale);
        return tf.tidy(() => {
          const r = inner.compute(vae, x, ctx);
          return { bound: r.bound, loss: tf.mul(r.loss, o.scale) as tf.Scalar } as unknown as tf.TensorContainerObject;
        }) as unknown as ReturnType<Objective['compute']>;
      },
    };
  },
});
const userModule = new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(scaledElbo);
});

describe('objectives as a role', () => {
  it('uses a user objective named in the config, with its options checked by its own schema', async () => {
    const data = binaryRows(40, 12, 1);
    const a = smallVae([userModule]);
    const b = smallVae([userModule]);
    calls.length = 0;
    const ha = await train(a, data, { epochs: 1, batchSize: 10, seed: 3, objective: { type: 'scaled-elbo', scale: 1 }, ...quiet });
    expect(calls.length).toBe(4);
    expect(calls.every((s) => s === 1)).toBe(true);
    // scale 1 is the ELBO: the same steps as the built-in, bit for bit.
    const hb = await train(b, data, { epochs: 1, batchSize: 10, seed: 3, objective: { type: 'elbo' }, ...quiet });
    expect(weights(a)).toEqual(weights(b));
    expect(ha.epochs[0]!.trainBound).toBe(hb.epochs[0]!.trainBound);
    await expect(train(a, data, { epochs: 1, objective: { type: 'scaled-elbo', scale: -2 }, ...quiet })).rejects.toThrow(/train\.objective\.scale/);
    a.dispose();
    b.dispose();
  });

  it('names the registered objectives when the name is unknown', async () => {
    const vae = smallVae([userModule]);
    await expect(train(vae, binaryRows(10, 12, 1), { epochs: 1, objective: { type: 'vimco' }, ...quiet })).rejects.toThrow(
      'train.objective.type: expected a registered objective plugin: "elbo", "iwae", "scaled-elbo", "stratified-elbo", "stratified-iwae"; got "vimco"',
    );
    vae.dispose();
  });

  it('refuses dreg with the elbo, naming the field, the value and what works', () => {
    const vae = smallVae();
    expect(() => vae.objective({ type: 'elbo', gradient: 'dreg' })).toThrow(
      'train.objective.gradient: expected for "elbo" one of "reparam", "stl" ("dreg" applies to "iwae": { "type": "iwae", "samples": K, "gradient": "dreg" }); got "dreg"',
    );
    expect(() => vae.objective({ type: 'iwae', samples: 0 })).toThrow(/train\.objective\.samples/);
    vae.dispose();
  });

  it('refuses stl and dreg with an encoder that has no logProb, naming the encoder', () => {
    const vae = smallVae([], { type: 'two-level', sizes: [2, 1], hidden: [8], topHidden: [8] }, { type: 'two-level', sizes: [2, 1], hidden: [8] });
    for (const g of ['stl', 'dreg']) {
      expect(() => vae.objective({ type: 'iwae', samples: 5, gradient: g })).toThrow(
        new RegExp(`train\\.objective\\.gradient: expected "reparam" with the "two-level" encoder: "${g}" scores samples .*; got "${g}"`),
      );
    }
    expect(vae.objective({ type: 'iwae', samples: 5 }).label).toBe('iwae K=5');
    vae.dispose();
  });

  it('weights the KL by the constant β times the warm-up weight', () => {
    const vae = smallVae();
    const x = tf.tensor2d(binaryRows(6, 12, 4).x, [6, 12]);
    const obj = vae.objective({ type: 'elbo', beta: 4 });
    vae.random.reseed(7);
    const loss = obj.compute(vae, x, { beta: 0.5, freeBits: 0, random: vae.random }).loss.dataSync()[0]!;
    vae.random.reseed(7);
    const r = vae.elbo(x);
    const rec = tf.mean(r.reconstruction).dataSync()[0]!;
    const kl = tf.mean(r.kl).dataSync()[0]!;
    expect(loss).toBeCloseTo(-(rec - 2 * kl), 4);
    expect(kl).toBeGreaterThan(0.01);
    vae.dispose();
    x.dispose();
  });

  it('assembles the ELBO loss in few ops with the value and gradients of the general form (free bits at 1e-30 take the general one), β = 1 and 0.3, K = 1 and 3', () => {
    const vae = smallVae();
    const x = tf.tensor2d(binaryRows(6, 12, 4).x, [6, 12]);
    const variables = vae.variables().map((v) => v.variable);
    for (const samples of [1, 3]) {
      for (const beta of [1, 0.3]) {
        const obj = vae.objective({ type: 'elbo', samples, beta });
        const run = (freeBits: number) => {
          vae.random.reseed(11);
          let bound: number[] = [];
          const { value, grads } = tf.variableGrads(() => {
            const r = obj.compute(vae, x, { beta: 1, freeBits, random: vae.random });
            bound = Array.from(r.bound.dataSync());
            return r.loss;
          }, variables);
          const out = { loss: value.dataSync()[0]!, bound, grads: variables.map((v) => Array.from(grads[v.name]!.dataSync())) };
          tf.dispose([value, ...Object.values(grads)]);
          return out;
        };
        const [fast, general] = [run(0), run(1e-30)];
        expect(fast.bound).toEqual(general.bound);
        expect(Math.abs(fast.loss - general.loss)).toBeLessThanOrEqual(2e-6 * Math.abs(general.loss));
        fast.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - general.grads[i]![j]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(general.grads[i]![j]!)))));
      }
    }
    vae.dispose();
    x.dispose();
  });

  it('lists the objectives and their options in `vaekit plugins`', async () => {
    const list = await listPlugins();
    const iwae = list.find((p) => p.role === 'objective' && p.name === 'iwae')!;
    expect(iwae.options.map((o) => o.name)).toEqual(['samples', 'gradient']);
    expect(iwae.options[1]).toMatchObject({ default: 'reparam' });
    const elbo = list.find((p) => p.role === 'objective' && p.name === 'elbo')!;
    expect(elbo.options.find((o) => o.name === 'beta')).toMatchObject({ default: 1 });
    expect(formatPlugins(list)).toMatch(/Objectives +train\.objective\n {2}elbo\n/);
  });
});
