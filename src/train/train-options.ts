import { ConfigError, parseWith } from '../config/errors.js';
import { trainSchema } from '../config/schema.js';
import { checkPositiveInt } from '../core/checks.js';
import { isObjective } from '../core/objective.js';
import { PARTS, RENAMED_PARTS, type Vae } from '../core/vae.js';
import type { Dataset } from '../data/dataset.js';
import { checkFinite, validateOnce } from '../data/validate.js';
import { writeStderrLine } from '../core/host-env.js';
import type { TrainOptions } from './trainer.js';

/** The options of `train()` that are also fields of a config's `train` section. */
const CONFIG_FIELDS = ['epochs', 'batchSize', 'learningRate', 'objective', 'warmup', 'freeBits', 'threads', 'seed'] as const;

/** Throws unless `data` is a data set of finite rows as wide as the model's, and what the likelihood accepts. */
function checkData(vae: Vae, data: Dataset, what: string): void {
  if (data === null || typeof data !== 'object' || !(data.x instanceof Float32Array)) {
    throw new Error(`${what}: expected a Dataset ({ name, x: Float32Array, rows, dim, binarize }); got ${data === null ? 'null' : typeof data}`);
  }
  if (!Number.isInteger(data.rows) || data.rows < 1 || data.rows * data.dim !== data.x.length) {
    throw new Error(`${what}: expected rows × dim = x.length with at least one row; got rows ${data.rows}, dim ${data.dim}, ${data.x.length} values`);
  }
  if (data.dim !== vae.dataDim) {
    throw new Error(`${what}: rows of "${data.name}" have ${data.dim} values but the model expects ${vae.dataDim} (model.dataDim)`);
  }
  checkFinite(data);
  const { likelihood } = vae;
  if (likelihood.validateData) validateOnce(data.x, likelihood.validateData, () => likelihood.validateData!(data.x, data.dim));
}

/**
 * Validates the options of `train()` before anything is made: the config-like fields (epochs,
 * batchSize, learningRate, objective, warmup, freeBits, seed) by the same zod schema as a config's
 * `train` section, so the library and the CLI accept and refuse the same values with the same
 * messages (the value shown as written: NaN, Infinity, −1); then the library-only options, the
 * model (not disposed) and the data (finite rows of the model's width). Warns (through
 * `options.log`, else stderr unless `quiet`) of settings that run but are probably mistakes: a
 * batch size above the row count (each epoch is then one full-batch step), and binarised data
 * for a likelihood of real values. Returns the warnings.
 */
export function checkTrainOptions(vae: Vae, data: Dataset, options: TrainOptions): string[] {
  if (options === null || typeof options !== 'object') throw new Error(`train: expected an options object ({ epochs, … }); got ${options === null ? 'null' : typeof options}`);
  vae.checkLive();
  if (options.epochs === undefined) throw new ConfigError('train.epochs', undefined, 'a non-negative integer');
  const section: Record<string, unknown> = {};
  for (const k of CONFIG_FIELDS) if (options[k] !== undefined) section[k] = options[k];
  // A built Objective (not a config spec) was checked by whoever built it.
  if (isObjective(options.objective)) delete section.objective;
  const parsed = parseWith(trainSchema, section, 'train');

  if (options.syncEvery !== undefined) checkPositiveInt('train.syncEvery', options.syncEvery);
  if (options.validationSamples !== undefined) checkPositiveInt('train.validationSamples', options.validationSamples);
  if (options.freeze !== undefined) {
    const bad = Array.isArray(options.freeze) ? options.freeze.find((p) => !(PARTS as readonly string[]).includes(p)) : options.freeze;
    if (!Array.isArray(options.freeze) || bad !== undefined) {
      const renamed = typeof bad === 'string' ? RENAMED_PARTS[bad] : undefined;
      throw new ConfigError('train.freeze', options.freeze, `a list of parts: ${PARTS.map((p) => `"${p}"`).join(', ')}${renamed ? ` ("${bad}" is now "${renamed}")` : ''}`);
    }
  }
  checkData(vae, data, 'data');
  if (options.validation) checkData(vae, options.validation, 'validation data');

  const warnings: string[] = [];
  if (parsed.batchSize > data.rows) {
    warnings.push(
      `train.batchSize ${parsed.batchSize} is larger than the ${data.rows} training rows: each epoch is one step on all rows (set batchSize ≤ ${data.rows})`,
    );
  }
  if (vae.likelihood.continuous && data.binarize !== 'none') {
    warnings.push(
      `data.binarize "${data.binarize}": the ${vae.likelihood.name} likelihood is a density over real values, and binarised {0, 1} data lets it grow without bound as its scale shrinks (set data.binarize to "none")`,
    );
  }
  const log = options.log ?? ((line: string) => (options.quiet ? undefined : writeStderrLine(line)));
  for (const w of warnings) log(`warning: ${w}`);
  return warnings;
}
