import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, LOG_2PI, createVae, loadMnist, parseConfig, tf } from '../../../plugins/index.js';
import type { PluginSpec, Vae, VaeConfigInput } from '../../../plugins/index.js';
import { TwoLevelEncoder } from '../../../plugins/two-level-encoder/two-level-encoder.js';
import { TwoLevelPrior } from '../../../plugins/two-level-prior/two-level-prior.js';
import { meanElbo, train, trainingLoss } from '../../../src/train/trainer.js';
import { loadVae, saveVae } from '../../../src/train/saved-model.js';
import { Random } from '../../../src/core/random.js';
import { expectNoLeak } from '../../support/memory.js';
import { linearGaussianBounds } from '../../support/linear-gaussian-bounds.js';

function read(t: tf.Tensor): number[] {
  const a = Array.from(t.dataSync());
  t.dispose();
  return a;
}

function smallTwoLevel(likelihood: PluginSpec = { type: 'bernoulli', hidden: [16] }, seed = 2): Vae {
  return createVae(
    {
      model: {
        latentDim: 5,
        dataDim: 7,
        encoder: { type: 'two-level', sizes: [3, 2], hidden: [16], topHidden: [8] },
        prior: { type: 'two-level', sizes: [3, 2], hidden: [8] },
        likelihood,
      },
    },
    { seed },
  );
}

/** Σ_d log N(v_d; m_d, e^{2 s_d}) over the last axis, in plain JS. */
function normalLogPdf(v: number[], m: number[], s: number[]): number {
  return v.reduce((acc, vi, d) => acc - 0.5 * ((vi - m[d]!) / Math.exp(s[d]!)) ** 2 - s[d]! - 0.5 * LOG_2PI, 0);
}

describe('two-level latent hierarchy (encoder q(z₁|x)q(z₂|z₁), prior p(z₂)p(z₁|z₂))', () => {
  it('declares latentSizes [D₁, D₂], gives the likelihood z₁ only, and samples z [K,B,D₁+D₂]', () => {
    const vae = smallTwoLevel();
    expect(vae.encoder.latentSizes).toEqual([3, 2]);
    expect(vae.prior.latentSizes).toEqual([3, 2]);
    expect(vae.encoder.latentDim).toBe(5);
    const x = tf.tidy(() => tf.cast(tf.greater(tf.tensor2d([[0.1, 0.9, 0.4, 0.7, 0.2, 0.8, 0.6]]), 0.5), 'float32')) as tf.Tensor2D;
    const s = vae.encoder.sample(x, 4);
    expect(s.z.shape).toEqual([4, 1, 5]);
    expect(s.logQ.shape).toEqual([4, 1]);
    expect(vae.decoderInput(s.z).shape).toEqual([4, 1, 3]);
    expect(vae.encode(x).shape).toEqual([1, 5]);
    expect(vae.reconstruct(x).shape).toEqual([1, 7]);
    expect(vae.sample(6).shape).toEqual([6, 7]);
    expect(vae.prior.sample(6).shape).toEqual([6, 5]);
    expect(vae.elbo(x, { samples: 3 }).klExact).toBe(false);
    tf.dispose([x, s.z, s.logQ]);
    vae.dispose();
  });

  it('reports logQ = log q(z₁|x) + log q(z₂|z₁) and log p(z) = log N(z₂; 0, I) + log p(z₁|z₂), as computed directly', () => {
    const vae = smallTwoLevel();
    const enc = vae.encoder as TwoLevelEncoder;
    const prior = vae.prior as TwoLevelPrior;
    const x = tf.tensor2d([[1, 0, 1, 1, 0, 0, 1]]);
    const s = enc.sample(x, 5);
    const logPz = read(prior.logProb(s.z));
    const logQ = read(s.logQ);
    const z = s.z.arraySync() as number[][][];
    const [m1, ls1] = tf.tidy(() => tf.split(enc.params(x), 2, 1)).map((t) => read(t));
    for (let k = 0; k < 5; k++) {
      const z1 = z[k]![0]!.slice(0, 3);
      const z2 = z[k]![0]!.slice(3);
      const [m2, ls2] = tf.tidy(() => {
        const g = enc.top.apply(tf.tensor2d([z1]));
        return [enc.mean2.apply(g), enc.logStd2.apply(g)];
      }).map((t) => read(t));
      const expectedQ = normalLogPdf(z1, m1!, ls1!) + normalLogPdf(z2, m2!, ls2!);
      expect(logQ[k]).toBeCloseTo(expectedQ, 3);
      const [pm, pls] = tf.tidy(() => tf.split(prior.net.apply(tf.tensor2d([z2])), 2, 1)).map((t) => read(t));
      const expectedP = normalLogPdf(z2, [0, 0], [0, 0]) + normalLogPdf(z1, pm!, pls!);
      expect(logPz[k]).toBeCloseTo(expectedP, 3);
    }
    tf.dispose([x, s.z]);
    vae.dispose();
  });

  it('builds the example config configs/two-level.json (Burda et al. sizes 100 + 50)', () => {
    const config = parseConfig(JSON.parse(readFileSync(new URL('../../../configs/two-level.json', import.meta.url), 'utf8')));
    const vae = createVae(config);
    expect(vae.encoder.latentSizes).toEqual([100, 50]);
    expect(vae.prior.latentSizes).toEqual([100, 50]);
    expect(vae.prior.kind).toBe('two-level-gaussian');
    vae.dispose();
  });

  it('rejects the old alias "ladder" (it is not the Ladder VAE) with a hint to "two-level", for the encoder and the prior', () => {
    const config = parseConfig(JSON.parse(readFileSync(new URL('../../../configs/two-level.json', import.meta.url), 'utf8')));
    const before = tf.memory().numTensors;
    expect(() => createVae({ ...config, model: { ...config.model, encoder: { type: 'ladder' } } })).toThrow(
      /^model\.encoder\.type: expected "two-level" \("ladder" was an old alias .*not the Ladder VAE.*\); got "ladder"$/,
    );
    expect(() => createVae({ ...config, model: { ...config.model, prior: { type: 'ladder' } } })).toThrow(
      /^model\.prior\.type: expected "two-level" \("ladder" was an old alias of the two-level prior.*; got "ladder"$/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fails at createVae, naming both plugins, when the encoder and prior declare different layers', () => {
    const model = (encoder: PluginSpec, prior: PluginSpec, latentDim = 150): VaeConfigInput => ({
      model: { latentDim, encoder, prior, likelihood: { type: 'bernoulli', hidden: [] } },
    });
    const cases: [VaeConfigInput, RegExp][] = [
      [model({ type: 'two-level' }, { type: 'standard-normal' }), /encoder "two-level" produces layers \[100, 50\], prior "standard-normal" models \[150\]/],
      [model({ type: 'gaussian', hidden: [] }, { type: 'two-level' }), /encoder "gaussian" produces layers \[150\], prior "two-level" models \[100, 50\]/],
      [model({ type: 'two-level', sizes: [120, 30] }, { type: 'two-level' }), /encoder "two-level" produces layers \[120, 30\], prior "two-level" models \[100, 50\]/],
      [model({ type: 'two-level' }, { type: 'two-level' }, 50), /model\.encoder\.sizes: expected two layer sizes \[z₁, z₂\] summing to model\.latentDim = 50.*got \[100,50\]/],
    ];
    for (const [config, message] of cases) {
      let error: unknown;
      try {
        createVae(config).dispose();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).toMatch(message);
    }
  });

  it('on the linear-Gaussian model gives ELBO ≤ log p(x) and IWAE_K ≤ log p(x), rising with K', async () => {
    // x = W z₁ + b + σε with z₁ ~ p(z₁) = ∫ p(z₁|z₂) p(z₂) dz₂ = N(0, I): the prior's linear
    // p(z₁|z₂) = N((a·z₂, 0), diag(1 − a², 1)) keeps the marginal standard normal, so the exact
    // log p(x) of the linear-Gaussian model applies, while z₂ carries real posterior structure.
    const a = 0.8;
    const b = await linearGaussianBounds({
      encoder: { type: 'two-level', sizes: [2, 1], hidden: [16], topHidden: [16] },
      prior: { type: 'two-level', sizes: [2, 1], hidden: [] },
      latentDim: 3,
      weights: () => ({
        'prior/net/0/kernel': tf.tensor2d([[a, 0, 0, 0]]),
        'prior/net/0/bias': tf.tensor1d([0, 0, Math.log(Math.sqrt(1 - a * a)), 0]),
      }),
      epochs: 15,
    });
    // Measured (seed 1): log p(x) −6.0485, ELBO −6.311 ± 0.030 (untrained −147), IWAE_1/10/100/1000
    // −6.311, −6.093, −6.053, −6.045 (± 0.032, 0.007, 0.003, 0.004).
    expect(b.untrainedElbo).toBeLessThan(b.elbo - 10);
    expect(b.elbo).toBeLessThan(b.logPx - 3 * b.elboSe);
    expect(b.elbo).toBeGreaterThan(b.logPx - 1); // trained close, so the inequality is tested near equality
    for (const { mean, se } of [...b.iwae, b.iwaeDirect]) expect(mean).toBeLessThanOrEqual(b.logPx + 3 * se);
    for (let i = 1; i < b.iwae.length; i++) {
      const [lo, hi] = [b.iwae[i - 1]!, b.iwae[i]!];
      expect(hi.mean).toBeGreaterThan(lo.mean - 2 * Math.hypot(lo.se, hi.se));
    }
    expect(b.iwae[1]!.mean).toBeGreaterThan(b.iwae[0]!.mean + 0.1);
    expect(b.iwae[b.iwae.length - 1]!.mean).toBeGreaterThan(b.iwae[1]!.mean + 0.02);
  });

  it('works with a Gaussian decoder and survives saveVae/loadVae with the same bound', async () => {
    const vae = smallTwoLevel({ type: 'gaussian', hidden: [], variance: 'global', sigma: 0.7 }, 9);
    const x = tf.tensor2d([
      [0.3, -1, 2, 0.5, 0, 1, -0.2],
      [1, 1, -1, 0, 0.4, -0.3, 0.9],
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'vaekit-two-level-'));
    try {
      await saveVae(vae, dir);
      const loaded = await loadVae(dir);
      expect(loaded.encoder.name).toBe('two-level');
      expect(loaded.prior.latentSizes).toEqual([3, 2]);
      vae.random.reseed(5);
      loaded.random.reseed(5);
      const before = read(vae.iwae(x, { samples: 20 }));
      const after = read(loaded.iwae(x, { samples: 20 }));
      for (let i = 0; i < before.length; i++) {
        expect(Number.isFinite(before[i]!)).toBe(true);
        expect(after[i]).toBeCloseTo(before[i]!, 4);
      }
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      x.dispose();
      vae.dispose();
    }
  });

  it('trains on an MNIST subset (Burda et al. sizes) past the untrained test ELBO, with a flat tensor count', async () => {
    const trainSet = loadMnist({ split: 'train', limit: 1000, binarize: 'dynamic' });
    const testSet = loadMnist({ split: 'test', limit: 500, binarize: 'static', seed: 1 });
    const vae = createVae({
      model: {
        latentDim: 150,
        encoder: { type: 'two-level', sizes: [100, 50], hidden: [200, 200], topHidden: [100, 100] },
        prior: { type: 'two-level', sizes: [100, 50], hidden: [100, 100] },
        likelihood: { type: 'bernoulli', hidden: [200, 200] },
      },
    });
    const evalElbo = () => meanElbo(vae, testSet, { samples: 1, random: new Random(7) });
    const untrained = evalElbo();
    await train(vae, trainSet, { epochs: 3, batchSize: 100, learningRate: 1e-3, seed: 1, progress: false, quiet: true });
    const trained = evalElbo();
    // Measured (seed 1, 30 steps): untrained −653.4, trained −235.9 nats on 500 test rows.
    expect(untrained).toBeLessThan(-500);
    expect(trained).toBeGreaterThan(-300);
    expect(trained).toBeGreaterThan(untrained + 200);

    const x = tf.tidy(() => tf.cast(tf.greater(tf.tensor2d(trainSet.x.subarray(0, 20 * 784), [20, 784]), 0.5), 'float32')) as tf.Tensor2D;
    const opt = tf.train.adam(1e-3);
    const vars = vae.variables().map((v) => v.variable);
    await expectNoLeak(() => {
      const cost = opt.minimize(() => trainingLoss(vae, x, { type: 'iwae', samples: 2 }, 1), true, vars);
      cost?.dispose();
      tf.dispose(Object.values(vae.elbo(x, { samples: 2 })).filter((v) => v instanceof tf.Tensor) as tf.Tensor[]);
    });
    opt.dispose();
    x.dispose();
    vae.dispose();
  });
});
