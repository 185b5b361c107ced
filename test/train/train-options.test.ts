import { describe, expect, it } from 'vitest';
import { createVae, parseConfig, tf, type Dataset } from '../../plugins/index.js';
import { train, type TrainOptions } from '../../src/train/trainer.js';

const model = { latentDim: 2, dataDim: 4, encoder: { type: 'gaussian', hidden: [3] }, likelihood: { type: 'bernoulli', hidden: [3] } };
const rows = (n: number, fill = (i: number) => (i % 3) / 2): Dataset => ({
  name: 'tiny',
  x: Float32Array.from({ length: n * 4 }, (_, i) => fill(i)),
  rows: n,
  dim: 4,
  binarize: 'none',
});
const quiet = { quiet: true, progress: false } as const;

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

describe('train() options', () => {
  const bad: [Partial<TrainOptions>, string][] = [
    [{ warmup: NaN }, 'train.warmup: expected a finite number; got NaN'],
    [{ warmup: -1 }, 'train.warmup: expected a number ≥ 0; got -1'],
    [{ freeBits: NaN }, 'train.freeBits: expected a finite number; got NaN'],
    [{ freeBits: -1 }, 'train.freeBits: expected a number ≥ 0; got -1'],
    [{ seed: 1.5 }, 'train.seed: expected an integer; got 1.5'],
    [{ seed: -1 }, 'train.seed: expected a number ≥ 0; got -1'],
    [{ learningRate: Infinity }, 'train.learningRate: expected a finite number; got Infinity'],
    [{ learningRate: NaN }, 'train.learningRate: expected a finite number; got NaN'],
    [{ batchSize: 0 }, 'train.batchSize: expected a number > 0; got 0'],
    [{ objective: { type: 'elbo', samples: NaN } }, 'train.objective.samples: expected a finite number; got NaN'],
  ];

  it('are checked by the config schema: the same message as a config file, the value shown as written', async () => {
    const vae = createVae(model);
    for (const [option, message] of bad) {
      expect(await failure(train(vae, rows(10), { epochs: 1, ...quiet, ...option }))).toBe(message);
      // An objective's options are checked by its plugin's own schema when it is built (as model
      // plugins' are), not by parseConfig; train() builds it, so its message is the same.
      if (!option.objective) expect(() => parseConfig({ model, train: option })).toThrow(message);
    }
    expect(await failure(train(vae, rows(10), { ...quiet } as TrainOptions))).toBe('train.epochs: expected a non-negative integer; got nothing (the field is missing)');
    expect(await failure(train(vae, rows(10), { epochs: 1, freeze: ['likelihood', 'head'] as never, ...quiet }))).toMatch(/^train\.freeze: expected a list of parts: "encoder", "likelihood", "prior"; got \["likelihood","head"\]$/);
    // The likelihood's old part name is refused with the new one.
    expect(await failure(train(vae, rows(10), { epochs: 1, freeze: ['decoder', 'prior'] as never, ...quiet }))).toBe(
      'train.freeze: expected a list of parts: "encoder", "likelihood", "prior" ("decoder" is now "likelihood"); got ["decoder","prior"]',
    );
    expect(() => vae.variables(['decoder'] as never)).toThrow('variables: expected a list of parts: "encoder", "likelihood", "prior" ("decoder" is now "likelihood"); got "decoder"');
    vae.dispose();
  });

  it('refuse a disposed model and NaN rows in the data before any step', async () => {
    const vae = createVae(model);
    const nan = rows(5, (i) => (i === 9 ? NaN : 0));
    expect(await failure(train(vae, nan, { epochs: 1, ...quiet }))).toBe("'tiny' row 2, column 1: expected a finite value; got NaN");
    vae.dispose();
    expect(await failure(train(vae, rows(10), { epochs: 1, ...quiet }))).toBe('Vae: the model has been disposed (its weights are freed); build or load it again');
  });

  it('warn of a batch larger than the data and of binarised data for a Gaussian likelihood', async () => {
    const lines: string[] = [];
    const vae = createVae({ ...model, likelihood: { type: 'gaussian', hidden: [3] } });
    const before = tf.memory().numTensors;
    await train(vae, { ...rows(10), binarize: 'static' }, { epochs: 1, batchSize: 50, progress: false, log: (l) => lines.push(l) });
    expect(tf.memory().numTensors).toBe(before);
    expect(lines[0]).toBe('warning: train.batchSize 50 is larger than the 10 training rows: each epoch is one step on all rows (set batchSize ≤ 10)');
    expect(lines[1]).toMatch(/^warning: data\.binarize "static": the gaussian likelihood is a density over real values.*set data\.binarize to "none"/);
    lines.length = 0;
    await train(vae, rows(10), { epochs: 1, batchSize: 5, progress: false, log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.startsWith('warning'))).toEqual([]);
    vae.dispose();
  });
});
