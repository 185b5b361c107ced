import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataSchema } from '../../src/config/schema.js';
import { ConfigError } from '../../src/config/errors.js';
import { readIdx } from '../../src/data/idx.js';
import { LINEAR_GAUSSIAN_DEFAULTS, loadData } from '../../src/data/load-data.js';
import { mnistFolder } from '../../src/data/mnist.js';
import { FASHION_MNIST, requires } from '../support/requires.js';

const LOG_2PI = Math.log(2 * Math.PI);

describe('loadData', () => {
  it('splits MNIST into train (first rows), validation (last rows of the file) and test', () => {
    const { train, validation, test, model } = loadData(dataSchema.parse({ name: 'mnist', binarize: 'none', limit: 500, testLimit: 200, validation: 100 }), {
      dataDim: 784,
    });
    expect(model).toBeUndefined();
    expect([train.rows, validation!.rows, test.rows]).toEqual([500, 100, 200]);
    expect(train.labels![0]).toBe(5);
    expect(test.labels![0]).toBe(7);
    const folder = mnistFolder();
    const lastLabels = readIdx(join(folder, 'train-labels-idx1-ubyte'), { rows: [59900, 60000] }).data;
    expect(Array.from(validation!.labels!)).toEqual(Array.from(lastLabels));
    const lastImage = readIdx(join(folder, 'train-images-idx3-ubyte'), { rows: [59999, 60000] }).data;
    const got = validation!.x.subarray(99 * 784);
    let worst = 0;
    for (let i = 0; i < 784; i++) worst = Math.max(worst, Math.abs(got[i]! - lastImage[i]! / 255));
    expect(worst).toBeLessThan(1e-7);
  });

  it('binarises every split statically from the one seed and defaults to dynamic', () => {
    const s = loadData(dataSchema.parse({ name: 'mnist', binarize: 'static', seed: 2, limit: 50, testLimit: 50, validation: 10 }));
    for (const d of [s.train, s.test, s.validation!]) {
      expect(d.binarize).toBe('static');
      let nonBinary = 0;
      for (const v of d.x) if (v !== 0 && v !== 1) nonBinary++;
      expect(nonBinary).toBe(0);
    }
    const dyn = loadData(dataSchema.parse({ limit: 10, testLimit: 10 }));
    expect([dyn.train.name, dyn.train.binarize, dyn.train.rows, dyn.validation]).toEqual(['mnist', 'dynamic', 10, undefined]);
  });

  it('loads Fashion-MNIST by name', (ctx) => {
    requires(ctx, FASHION_MNIST);
    const { train, test } = loadData(dataSchema.parse({ name: 'fashion-mnist', limit: 20, testLimit: 20 }));
    expect([train.name, train.rows, train.dim, train.labels![0], test.labels![0]]).toEqual(['fashion-mnist', 20, 784, 9, 9]);
  });

  it('rejects row counts the file cannot hold and a model width that does not match', () => {
    const tooMany = () => loadData(dataSchema.parse({ name: 'mnist', limit: 59950, validation: 100 }));
    expect(tooMany).toThrow(ConfigError);
    expect(tooMany).toThrow('data.limit: expected at most 59900 (60000 training rows minus 100 validation rows); got 59950');
    expect(() => loadData(dataSchema.parse({ validation: 60000 }))).toThrow(
      'data.validation: expected fewer rows than the 60000 of the mnist training set; got 60000',
    );
    expect(() => loadData(dataSchema.parse({ limit: 5, testLimit: 5 }), { dataDim: 100 })).toThrow(
      "model.dataDim: the model expects rows of width 100; the data set 'mnist' has rows of width 784 (set model.dataDim to 784)",
    );
  });

  it('draws a linear-Gaussian set with its model: defaults P = 20, D = 5, σ = 0.5, 10,000/2,000 rows', () => {
    const { train, test, validation, model } = loadData(dataSchema.parse({ name: 'linear-gaussian', validation: 500, seed: 3 }));
    expect(LINEAR_GAUSSIAN_DEFAULTS).toEqual({ dataDim: 20, latentDim: 5, sigma: 0.5, trainRows: 10000, testRows: 2000 });
    expect([model!.dataDim, model!.latentDim, model!.sigma]).toEqual([20, 5, 0.5]);
    expect([train.rows, validation!.rows, test.rows, train.dim]).toEqual([10000, 500, 2000, 20]);
    // The schema's default binarize ('dynamic') does not apply to real-valued data.
    expect([train.name, train.binarize, test.binarize]).toEqual(['linear-gaussian', 'none', 'none']);
    // E[log p(x)] = −½(P log 2π + log det C + P); log p(x) has variance P/2 (a χ²_P/2 term).
    const lp = model!.logProb(train.x);
    const mean = lp.reduce((a, b) => a + b, 0) / lp.length;
    const expected = -0.5 * (20 * LOG_2PI + model!.logDetCov + 20);
    expect(Math.abs(mean - expected)).toBeLessThan(4 * Math.sqrt(10 / 10000));
    // Validation rows follow the training rows in the same stream: a longer train set starts the same.
    const longer = loadData(dataSchema.parse({ name: 'linear-gaussian', seed: 3, limit: 10500 }));
    expect(Array.from(longer.train.x.subarray(10000 * 20, 10001 * 20))).toEqual(Array.from(validation!.x.subarray(0, 20)));
    expect(Array.from(longer.test.x.subarray(0, 40))).toEqual(Array.from(test.x.subarray(0, 40)));
    const other = loadData(dataSchema.parse({ name: 'linear-gaussian', seed: 4, limit: 10, testLimit: 10 }));
    expect(other.model!.W[0]).not.toBe(model!.W[0]);
  });

  it('accepts P, D and σ for the linear-Gaussian set', () => {
    const { train, model } = loadData(dataSchema.parse({ name: 'linear-gaussian', limit: 30, testLimit: 5 }), { dataDim: 8, latentDim: 2, sigma: 0.3 });
    expect([train.rows, train.dim, model!.dataDim, model!.latentDim, model!.sigma]).toEqual([30, 8, 8, 2, 0.3]);
  });
});
