import { z } from 'zod';
import { BACKEND_NAMES } from '../backend/select-backend.js';
import { parseWith } from './errors.js';
import { WEIGHT_INITS } from '../nn/weight-init.js';

/** A plugin spec: `{ "type": name, ...options }`; options are checked by the plugin's own schema. */
export const pluginSpecSchema = z.looseObject({ type: z.string() });

export const modelSchema = z
  .object({
    latentDim: z.number().int().positive(),
    /** Width of a data row; defaults to 784 (28×28 images). */
    dataDim: z.number().int().positive().default(784),
    encoder: pluginSpecSchema,
    prior: pluginSpecSchema.default({ type: 'standard-normal' }),
    likelihood: pluginSpecSchema,
    /** Seed for weight initialisation and sampling (defaults to train.seed, then 1). */
    seed: z.number().int().nonnegative().optional(),
    /** Initialisation of every dense layer: `glorot` (default) or `pytorch` (see `denseInitialValues`). */
    init: z.enum(WEIGHT_INITS).optional(),
  })
  .strict();

export const BINARIZE = ['dynamic', 'static', 'none'] as const;
export const DATA_NAMES = ['mnist', 'fashion-mnist', 'linear-gaussian'] as const;

export const dataSchema = z
  .object({
    name: z.enum(DATA_NAMES).default('mnist'),
    binarize: z.enum(BINARIZE).default('dynamic'),
    /** Use only the first N training rows. */
    limit: z.number().int().positive().optional(),
    /** Use only the first N test rows. */
    testLimit: z.number().int().positive().optional(),
    /** Rows held out of the training set for validation (taken from its end). */
    validation: z.number().int().nonnegative().default(0),
    /** Seed of the static binarisation (train and test). */
    seed: z.number().int().nonnegative().default(0),
    /** Folder holding the IDX files, to override the default location. */
    path: z.string().optional(),
  })
  .strict();

/**
 * `train.objective`: an objective plugin spec (`{ "type": "iwae", "samples": 10, "gradient": "dreg" }`);
 * its options are checked by the objective's own schema when it is built (`vaekit plugins` lists them).
 */
export const objectiveSchema = pluginSpecSchema;

export const trainSchema = z
  .object({
    epochs: z.number().int().nonnegative().default(10),
    batchSize: z.number().int().positive().default(100),
    learningRate: z.number().positive().default(1e-3),
    objective: objectiveSchema.default({ type: 'elbo', samples: 1 }),
    /** β warm-up: β rises linearly from 0 to 1 over this many epochs (0: β = 1 throughout). */
    warmup: z.number().nonnegative().default(0),
    /** Free bits λ per latent dimension group (Kingma et al. 2016): KL terms below λ nats are not penalised. 0 = off. */
    freeBits: z.number().nonnegative().default(0),
    /** Threads one run trains on: 1, or n > 1 to split each batch over n − 1 worker threads too (data-parallel, same result up to float32 summation order). */
    threads: z.number().int().positive().default(1),
    seed: z.number().int().nonnegative().default(1),
  })
  .strict();

export const evalSchema = z
  .object({
    samples: z.number().int().positive().default(5000),
    /** K values for the IWAE_K column of the bound report. */
    iwaeSamples: z.array(z.number().int().positive()).default([1, 10, 100, 1000, 5000]),
    elboSamples: z.number().int().positive().default(100),
  })
  .strict();

export const configSchema = z
  .object({
    /** The JSON Schema an editor validates the file against (ignored by vaekit). */
    $schema: z.string().optional(),
    model: modelSchema,
    data: dataSchema.default(dataSchema.parse({})),
    train: trainSchema.default(trainSchema.parse({})),
    eval: evalSchema.default(evalSchema.parse({})),
    backend: z.enum(BACKEND_NAMES as unknown as ['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  })
  .strict();

export type ModelConfig = z.output<typeof modelSchema>;
export type ModelConfigInput = z.input<typeof modelSchema>;
export type DataConfig = z.output<typeof dataSchema>;
export type TrainConfig = z.output<typeof trainSchema>;
export type EvalConfig = z.output<typeof evalSchema>;
export type VaeConfig = z.output<typeof configSchema>;
/** What a user writes: every section but `model` may be left out. */
export type VaeConfigInput = z.input<typeof configSchema>;

/** Validates a whole config (defaults filled in); errors name the field, the value and the expectation. */
export function parseConfig(input: unknown): VaeConfig {
  return parseWith(configSchema, input, '');
}
