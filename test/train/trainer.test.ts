import { ContainerModule } from 'inversify';
import { describe, expect, it } from 'vitest';
import { PluginFactory, Random, createVae, definePlugin, tf, z, type Vae } from '../../plugins/index.js';
import type { Dataset } from '../../src/data/dataset.js';
import { BernoulliLikelihood } from '../../plugins/bernoulli-likelihood/bernoulli-likelihood.js';
import { NonFiniteLossError, meanElbo, train, trainingLoss } from '../../src/train/trainer.js';
import { prototypes } from '../support/prototypes.js';

const quiet = { quiet: true, progress: false } as const;

function smallVae(dim: number, seed = 1, likelihood: { type: string; [k: string]: unknown } = { type: 'bernoulli', hidden: [32] }, plugins: ContainerModule[] = []): Vae {
  return createVae(
    { latentDim: 4, dataDim: dim, encoder: { type: 'gaussian', hidden: [32] }, prior: { type: 'standard-normal' }, likelihood, seed },
    { plugins },
  );
}

const snapshot = (vae: Vae) => Object.fromEntries(Object.entries(vae.getWeights()).map(([n, v]) => [n, Array.from(v.dataSync())]));
const allFinite = (vae: Vae) => Object.values(vae.getWeights()).every((v) => v.dataSync().every((x) => Number.isFinite(x)));

/**
 * A Bernoulli likelihood that returns −∞ for every batch holding a row whose first value is 0.5
 * (a "user likelihood that breaks" at a known step).
 */
class MarkedLikelihood extends BernoulliLikelihood {
  override logProb(x: tf.Tensor2D, z: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const marked = tf.cast(tf.any(tf.equal(tf.slice(x, [0, 0], [-1, 1]), 0.5)), 'float32');
      return tf.add(super.logProb(x, z), tf.log(tf.sub(1, marked))) as tf.Tensor2D;
    });
  }
  override validateData(): void {}
}
/** Throws (as a model's own sanity check would) on a batch holding a marked row. */
class ThrowingLikelihood extends BernoulliLikelihood {
  override logProb(x: tf.Tensor2D, z: tf.Tensor3D): tf.Tensor2D {
    const marked = tf.tidy(() => tf.any(tf.equal(tf.slice(x, [0, 0], [-1, 1]), 0.5)));
    const hit = marked.dataSync()[0];
    marked.dispose();
    if (hit) throw new Error('marked batch');
    return super.logProb(x, z);
  }
  override validateData(): void {}
}
const throwingPlugin = new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(
    definePlugin({
      role: 'likelihood',
      name: 'marked',
      description: 'test: throws on marked batches',
      options: z.object({}).strict(),
      create: (_o, ctx) => new ThrowingLikelihood(ctx.latentDim, ctx.dataDim, { hidden: [32], activation: 'tanh' }, ctx.random),
    }),
  );
});

const markedPlugin = new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(
    definePlugin({
      role: 'likelihood',
      name: 'marked',
      description: 'test: −∞ on marked batches',
      options: z.object({}).strict(),
      create: (_o, ctx) => new MarkedLikelihood(ctx.latentDim, ctx.dataDim, { hidden: [32], activation: 'tanh' }, ctx.random),
    }),
  );
});

describe('train', () => {
  it('raises the ELBO on a small synthetic set', async () => {
    const data = prototypes(400, 32, 1);
    const vae = smallVae(32);
    const before = meanElbo(vae, data, { random: new Random(5) });
    const history = await train(vae, data, { epochs: 8, batchSize: 40, learningRate: 0.01, seed: 2, ...quiet });
    const after = meanElbo(vae, data, { random: new Random(5) });
    // 32 binary pixels: an untrained model is near −32·log 2 ≈ −22 nats; the four prototypes
    // with 5 % flips are worth about −32·H(0.05) − log 4 ≈ −7.7 nats.
    expect(before).toBeLessThan(-18);
    expect(after).toBeGreaterThan(before + 6);
    expect(history.epochs.at(-1)!.trainBound).toBeGreaterThan(history.epochs[0]!.trainBound + 3);
    expect(history.steps).toBe(80);
    vae.dispose();
  });

  it('keeps the live tensor count flat across epochs and leaves none behind', async () => {
    const data = prototypes(200, 32, 2);
    const vae = smallVae(32);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await train(vae, data, {
      epochs: 4,
      batchSize: 20,
      seed: 3,
      syncEvery: 3,
      validation: prototypes(50, 32, 3),
      ...quiet,
      onEpochEnd: () => void counts.push(tf.memory().numTensors),
    });
    // During training Adam holds two moments per variable and four constants; nothing else stays.
    const adamState = 2 * vae.variables().length + 4;
    expect(counts).toEqual([1, 2, 3, 4].map(() => before + adamState));
    expect(tf.memory().numTensors).toBe(before);
    vae.dispose();
  });

  it('takes the same steps whether the loss is read every step or once per window', async () => {
    const data = prototypes(200, 32, 4);
    const a = smallVae(32);
    const b = smallVae(32);
    const ha = await train(a, data, { epochs: 2, batchSize: 20, seed: 4, syncEvery: 1, ...quiet });
    const hb = await train(b, data, { epochs: 2, batchSize: 20, seed: 4, syncEvery: 7, ...quiet });
    expect(snapshot(b)).toEqual(snapshot(a));
    expect(hb.epochs.map((e) => e.trainBound)).toEqual(ha.epochs.map((e) => e.trainBound));
    a.dispose();
    b.dispose();
  });

  it('stops a diverging run (learning rate 1e6) with NonFiniteLossError and finite weights', async () => {
    const data = prototypes(200, 32, 5);
    const vae = smallVae(32);
    const before = tf.memory().numTensors;
    const err = await train(vae, data, { epochs: 3, batchSize: 20, learningRate: 1e6, seed: 5, ...quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    const e = err as NonFiniteLossError;
    expect(e.message).toMatch(new RegExp(`at epoch ${e.epoch}, step ${e.step}`));
    expect(e.epoch).toBeGreaterThanOrEqual(1);
    expect(e.step).toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(e.value)).toBe(false);
    expect(allFinite(vae)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    vae.dispose();
  });

  for (const [syncEvery, plugin, what] of [
    [1, markedPlugin, 'whose loss is −∞'],
    [16, markedPlugin, 'whose loss is −∞'],
    [16, throwingPlugin, 'where the model throws'],
  ] as const) {
    it(`stops before a step ${what} and keeps the weights from before it (syncEvery ${syncEvery})`, async () => {
      const batchSize = 10;
      const dim = 16;
      const seed = 6;
      const proto = Array.from({ length: dim }, (_, j) => (j % 3 === 0 ? 1 : 0));
      const rowsOf = (rows: number, marked?: number): Dataset => {
        const x = new Float32Array(rows * dim);
        for (let r = 0; r < rows; r++) x.set(proto, r * dim);
        if (marked !== undefined) x[marked * dim] = 0.5;
        return { name: 'marked', x, rows, dim, binarize: 'none' };
      };
      // The trainer shuffles with Random(seed): put the marked row in the 4th batch of epoch 1.
      const rows = 10 * batchSize;
      const markedRow = new Random(seed).permutation(rows)[3 * batchSize + 2]!;
      const vae = smallVae(dim, 7, { type: 'marked' }, [plugin]);
      const before = tf.memory().numTensors;
      const err = await train(vae, rowsOf(rows, markedRow), { epochs: 2, batchSize, seed, syncEvery, ...quiet }).catch((e: unknown) => e);
      if (plugin === markedPlugin) {
        expect(err).toBeInstanceOf(NonFiniteLossError);
        expect((err as Error).message).toContain('at epoch 1, step 4;');
        expect((err as NonFiniteLossError).value).toBe(Infinity);
        expect(tf.memory().numTensors).toBe(before);
      } else {
        // (tfjs keeps the tensors a gradient tape saved before an exception; nothing to assert on memory.)
        expect((err as Error).message).toBe('marked batch');
      }
      expect(allFinite(vae)).toBe(true);

      // Reference: the same model trained on exactly the 3 batches before the bad one (all rows
      // alike, so the order does not matter) has byte-identical weights.
      const ref = smallVae(dim, 7, { type: 'marked' }, [markedPlugin]);
      await train(ref, rowsOf(3 * batchSize), { epochs: 1, batchSize, seed, ...quiet });
      expect(snapshot(vae)).toEqual(snapshot(ref));
      const untouched = smallVae(dim, 7, { type: 'marked' }, [markedPlugin]);
      expect(snapshot(vae)).not.toEqual(snapshot(untouched));
      [vae, ref, untouched].forEach((v) => v.dispose());
    });
  }

  it('leaves frozen parts byte-identical', async () => {
    const data = prototypes(200, 32, 8);
    const vae = smallVae(32);
    const frozen = vae.variables(['likelihood', 'prior']).map((v) => Array.from(v.variable.dataSync()));
    const encoder = vae.variables(['encoder']).map((v) => Array.from(v.variable.dataSync()));
    await train(vae, data, { epochs: 2, batchSize: 20, seed: 8, freeze: ['likelihood', 'prior'], ...quiet });
    expect(vae.variables(['likelihood', 'prior']).map((v) => Array.from(v.variable.dataSync()))).toEqual(frozen);
    expect(vae.variables(['encoder']).map((v) => Array.from(v.variable.dataSync()))).not.toEqual(encoder);
    await expect(train(vae, data, { epochs: 1, freeze: ['encoder', 'likelihood', 'prior'], ...quiet })).rejects.toThrow(/nothing left to train/);
    vae.dispose();
  });

  it('warms β up linearly per step: β = min(1, (epoch + step/steps)/warmup)', async () => {
    const data = prototypes(80, 32, 9);
    const vae = smallVae(32);
    const h = await train(vae, data, { epochs: 4, batchSize: 20, seed: 9, warmup: 2, ...quiet });
    // 4 steps per epoch; the record holds β of the epoch's last step (step index 3).
    expect(h.epochs.map((e) => e.beta)).toEqual([0.375, 0.875, 1, 1]);
    vae.dispose();
  });

  it('weights the KL of the training loss by β: loss = −mean(reconstruction − β·KL)', () => {
    const data = prototypes(20, 32, 10);
    const vae = smallVae(32);
    const x = tf.tensor2d(data.x, [20, 32]);
    const at = (beta: number) => {
      vae.random.reseed(3);
      const l = trainingLoss(vae, x, { type: 'elbo', samples: 1 }, beta);
      const v = l.dataSync()[0]!;
      l.dispose();
      return v;
    };
    vae.random.reseed(3);
    const r = vae.elbo(x, { samples: 1 });
    const rec = tf.mean(r.reconstruction).dataSync()[0]!;
    const kl = tf.mean(r.kl).dataSync()[0]!;
    tf.dispose([r.elbo, r.reconstruction, r.kl]);
    expect(kl).toBeGreaterThan(0.01);
    expect(at(0.25)).toBeCloseTo(-(rec - 0.25 * kl), 4);
    expect(at(1)).toBeCloseTo(-(rec - kl), 4);
    x.dispose();
    vae.dispose();
  });

  it('rejects a bad syncEvery with the field and the value', async () => {
    const vae = smallVae(32);
    await expect(train(vae, prototypes(20, 32, 1), { epochs: 1, syncEvery: 0, ...quiet })).rejects.toThrow('train.syncEvery: expected a positive integer; got 0');
    vae.dispose();
  });
});
