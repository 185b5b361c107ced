import { Random } from '../core/random.js';
import { ConfigError } from '../config/errors.js';
import type { DataConfig } from '../config/schema.js';
import type { Dataset } from './dataset.js';
import { FASHION_MNIST_SOURCE } from './fashion-mnist.js';
import { loadIdxImages, countIdxRows, type ImageSetSource } from './idx-images.js';
import { LinearGaussianModel } from './linear-gaussian.js';
import { MNIST_SOURCE } from './mnist.js';
import { checkWidth } from './validate.js';

/**
 * Defaults of the synthetic linear-Gaussian set (see `loadData`): P = 20 data dimensions,
 * D = 5 latent dimensions, σ = 0.5, W with orthogonal columns of norms 2 … 0.5, b ~ N(0, I),
 * 10,000 training and 2,000 test rows.
 */
export const LINEAR_GAUSSIAN_DEFAULTS = { dataDim: 20, latentDim: 5, sigma: 0.5, trainRows: 10_000, testRows: 2_000 } as const;

export interface LoadDataOptions {
  /** Width of a row: checked against image sets (784); P of the linear-Gaussian set. */
  dataDim?: number;
  /** D of the linear-Gaussian set (its true latent dimension). */
  latentDim?: number;
  /** σ of the linear-Gaussian set. */
  sigma?: number;
}

export interface LoadedData {
  train: Dataset;
  test: Dataset;
  /** Present when `validation` > 0: rows held out of the end of the training data. */
  validation?: Dataset;
  /** The generating model of a linear-Gaussian set (its exact log p(x) and posterior). */
  model?: LinearGaussianModel;
}

const IMAGE_SOURCES: Record<string, ImageSetSource> = {
  mnist: MNIST_SOURCE,
  'fashion-mnist': FASHION_MNIST_SOURCE,
};

/**
 * Loads the data a config names.
 *
 * Image sets (`mnist`, `fashion-mnist`): `validation` = the last V rows of the training file;
 * `train` = the first `limit` rows (default: all the others); `test` = the first `testLimit` test
 * rows. `binarize` and `seed` as in `loadMnist` (a row's static draw depends only on the seed,
 * split and row index). A `dataDim` other than the images' 784 is an error.
 *
 * `linear-gaussian`: the model is `LinearGaussianModel.random({ dataDim, latentDim, sigma,
 * seed: data.seed })` (defaults in `LINEAR_GAUSSIAN_DEFAULTS`); `limit` (default 10,000) + V rows
 * are drawn from `new Random(seed).fork(1)`, the first `limit` for training and the last V for
 * validation; `testLimit` (default 2,000) test rows from `new Random(seed).fork(2)`. The values
 * are real numbers: `binarize` and `path` do not apply and are ignored (the schema's default
 * `binarize: 'dynamic'` must not turn a Gaussian set into a Bernoulli one).
 */
export function loadData(config: DataConfig, options: LoadDataOptions = {}): LoadedData {
  if (config.name === 'linear-gaussian') return loadLinearGaussian(config, options);
  const source = IMAGE_SOURCES[config.name];
  if (!source) {
    throw new ConfigError('data.name', config.name, `one of ${['linear-gaussian', ...Object.keys(IMAGE_SOURCES)].join(', ')}`);
  }
  const { binarize, seed, validation: v, limit, testLimit } = config;
  const common = { binarize, seed, ...(config.path !== undefined ? { path: config.path } : {}) };
  const total = countIdxRows(source, 'train', config.path);
  if (v >= total) throw new ConfigError('data.validation', v, `fewer rows than the ${total} of the ${config.name} training set`);
  if (limit !== undefined && limit + v > total) {
    throw new ConfigError('data.limit', limit, `at most ${total - v} (${total} training rows minus ${v} validation rows)`);
  }
  const train = loadIdxImages(source, { ...common, split: 'train', limit: limit ?? total - v });
  const test = loadIdxImages(source, { ...common, split: 'test', ...(testLimit !== undefined ? { limit: testLimit } : {}) });
  if (options.dataDim !== undefined) checkWidth(train, options.dataDim);
  const out: LoadedData = { train, test };
  if (v > 0) out.validation = loadIdxImages(source, { ...common, split: 'train', offset: total - v, limit: v });
  return out;
}

/**
 * Only the test split of the data a config names, as `loadData(config).test` would give it
 * (`testLimit` rows; the same linear-Gaussian model and draws), without reading or drawing the
 * training rows: a folder holding only the test files is enough to evaluate on.
 */
export function loadTestData(config: DataConfig, options: LoadDataOptions = {}): Dataset {
  if (config.name === 'linear-gaussian') {
    return linearGaussianModel(config, options).sample(config.testLimit ?? LINEAR_GAUSSIAN_DEFAULTS.testRows, new Random(config.seed).fork(2));
  }
  const source = IMAGE_SOURCES[config.name];
  if (!source) {
    throw new ConfigError('data.name', config.name, `one of ${['linear-gaussian', ...Object.keys(IMAGE_SOURCES)].join(', ')}`);
  }
  const test = loadIdxImages(source, {
    binarize: config.binarize,
    seed: config.seed,
    split: 'test',
    ...(config.path !== undefined ? { path: config.path } : {}),
    ...(config.testLimit !== undefined ? { limit: config.testLimit } : {}),
  });
  if (options.dataDim !== undefined) checkWidth(test, options.dataDim);
  return test;
}

/** Rows in the test split of an image set (its labels file's length); undefined for a synthetic set, which draws as many as asked. */
export function testRowCount(config: DataConfig): number | undefined {
  const source = IMAGE_SOURCES[config.name];
  return source ? countIdxRows(source, 'test', config.path) : undefined;
}

function linearGaussianModel(config: DataConfig, options: LoadDataOptions): LinearGaussianModel {
  const d = LINEAR_GAUSSIAN_DEFAULTS;
  return LinearGaussianModel.random({
    dataDim: options.dataDim ?? d.dataDim,
    latentDim: options.latentDim ?? d.latentDim,
    sigma: options.sigma ?? d.sigma,
    seed: config.seed,
  });
}

function loadLinearGaussian(config: DataConfig, options: LoadDataOptions): LoadedData {
  const d = LINEAR_GAUSSIAN_DEFAULTS;
  const model = linearGaussianModel(config, options);
  const rows = config.limit ?? d.trainRows;
  const v = config.validation;
  const seeds = new Random(config.seed);
  const pool = model.sample(rows + v, seeds.fork(1));
  const test = model.sample(config.testLimit ?? d.testRows, seeds.fork(2));
  const out: LoadedData = { train: slice(pool, 0, rows), test, model };
  if (v > 0) out.validation = slice(pool, rows, rows + v);
  return out;
}

function slice(data: Dataset, start: number, end: number): Dataset {
  return { ...data, x: data.x.slice(start * data.dim, end * data.dim), rows: end - start };
}
