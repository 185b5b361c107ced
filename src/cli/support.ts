import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import type { ContainerModule } from 'inversify';
import type { Vae } from '../core/vae.js';
import type { Dataset } from '../data/dataset.js';
import type { VaeConfig } from '../config/schema.js';
import { parseConfig } from '../config/schema.js';
import { loadData, loadTestData, testRowCount } from '../data/load-data.js';
import { readIdx } from '../data/idx.js';
import { checkFinite, checkWidth } from '../data/validate.js';
import { parseJsonText } from './json-position.js';
import { importPluginFile } from './plugin-import.js';

/** Where the command writes: results to `out`, progress and messages to `err`. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** A failure the user can fix; printed as one message, exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** A malformed command line (bad option value); exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Digits, optionally with a fraction and an exponent (`64`, `1e9`, `2.5e3`): the integer forms a user may type. */
const INTEGER_TEXT = /^\s*\d+(\.\d+)?([eE]\+?\d+)?\s*$/;

function intOption(option: string, min: 0 | 1): (value: string) => number {
  const what = min === 0 ? 'a non-negative integer' : 'a positive integer';
  return (value: string) => {
    const n = Number(value);
    if (!INTEGER_TEXT.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new UsageError(`${option}: expected ${what}; got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** Parses a positive integer option value (`100`, `1e6`), or throws a UsageError naming the option. */
export const positiveInt = (option: string) => intOption(option, 1);

/** Parses a non-negative integer option value (a seed: 0 is valid), or throws a UsageError naming the option. */
export const nonNegativeInt = (option: string) => intOption(option, 0);

/** Parses a positive finite number option value (`0.001`, `1e-4`), or throws a UsageError naming the option. */
export function positiveNumber(option: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${option}: expected a positive number; got ${JSON.stringify(value)}`);
    return n;
  };
}

/** Collects a repeatable option into a list. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Reads and validates a config file: JSON errors with line and column, config errors naming the field. */
export function readConfigFile(path: string): VaeConfig {
  if (!existsSync(path)) throw new CliError(`--config ${path}: no such file`);
  if (statSync(path).isDirectory()) throw new CliError(`--config ${path}: is a directory; expected a JSON config file`);
  const raw = parseJsonText(readFileSync(path, 'utf8'), path);
  try {
    return parseConfig(raw);
  } catch (e) {
    throw new CliError(`${path}: ${(e as Error).message}`);
  }
}

/** A user plugin module loaded with `--plugin`: its path as given, the absolute path and its ContainerModule. */
export interface UserPlugin {
  path: string;
  absolute: string;
  module: ContainerModule;
}

function isContainerModule(m: unknown): m is ContainerModule {
  return m !== null && typeof m === 'object' && typeof (m as { load?: unknown }).load === 'function' && 'id' in (m as object);
}

/** Imports each `--plugin` module; its default export must be an inversify ContainerModule. */
export async function loadUserPlugins(paths: readonly string[] = []): Promise<UserPlugin[]> {
  const out: UserPlugin[] = [];
  for (const p of paths) {
    const absolute = resolve(p);
    if (!existsSync(absolute)) throw new CliError(`--plugin ${p}: no such file (looked at ${absolute})`);
    let mod: { default?: unknown };
    try {
      mod = await importPluginFile(absolute);
    } catch (e) {
      throw new CliError(`--plugin ${p}: the module failed to load: ${(e as Error).message}`);
    }
    if (!isContainerModule(mod.default)) {
      throw new CliError(
        `--plugin ${p}: expected the module's default export to be a plugin module (\`export default definePluginModule(definePlugin({ role, name, description, options, create }))\`, all from 'vaekit'); got ${
          mod.default === undefined ? 'no default export' : typeof mod.default
        }`,
      );
    }
    out.push({ path: p, absolute, module: mod.default });
  }
  return out;
}

/** Checks a data set against a model: finite values, the model's row width, and the likelihood's own rule (Bernoulli: [0, 1]). */
export function checkDataFor(vae: Vae, data: Dataset, what: string): void {
  try {
    checkFinite(data);
    checkWidth(data, vae.dataDim);
    vae.likelihood.validateData?.(data.x, data.dim);
  } catch (e) {
    throw new CliError(`${what}: ${(e as Error).message}`);
  }
}

/** Loads the config's data (train, test, optional validation), with the source named in errors. */
export function loadConfigData(config: VaeConfig): ReturnType<typeof loadData> {
  try {
    return loadData(config.data, { dataDim: config.model.dataDim, latentDim: config.model.latentDim });
  } catch (e) {
    throw new CliError(`data (${config.data.name}${config.data.path ? ` at ${config.data.path}` : ''}): ${(e as Error).message}`);
  }
}

const DATA_NAMES = ['mnist', 'fashion-mnist', 'linear-gaussian'] as const;

/**
 * The data a command evaluates on (`--data`): a data set name (its test split), a folder of
 * MNIST-format IDX files (its test split; the training files are not needed), or one IDX file of
 * rows (`[N, P]` or images `[N, H, W]`; uint8 is scaled by 1/255, other types are taken as they
 * are). Default: the test split of the model's config. `rows` keeps the first rows only: when
 * the user gave it with option `flag`, more rows than the data holds is an error naming the
 * flag; a default `rows` (no `flag`) is cut to what the data holds.
 */
export function resolveEvalData(config: VaeConfig, spec: string | undefined, rows?: number, flag?: string): Dataset {
  const where = spec === undefined ? `the ${config.data.name} test split` : `--data ${spec}`;
  /** The rows to take of `available`, or an error naming the flag. */
  const take = (available: number): number => {
    if (rows === undefined) return available;
    if (rows > available && flag !== undefined) throw new CliError(`${flag} ${rows}: ${where} has only ${available} rows`);
    return Math.min(rows, available);
  };
  const testSplit = (data: VaeConfig['data']): Dataset => {
    try {
      const available = testRowCount(data);
      const n = available === undefined ? rows : take(available);
      return loadTestData({ ...data, ...(n ? { testLimit: n } : {}) }, { dataDim: config.model.dataDim, latentDim: config.model.latentDim });
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`${spec === undefined ? `data (${data.name}${data.path ? ` at ${data.path}` : ''})` : `--data ${spec}`}: ${(e as Error).message}`);
    }
  };
  if (spec === undefined || (DATA_NAMES as readonly string[]).includes(spec)) {
    const name = (spec ?? config.data.name) as VaeConfig['data']['name'];
    const { path, ...rest } = config.data;
    return testSplit(spec && spec !== config.data.name ? { ...rest, name } : { ...rest, name, ...(path !== undefined ? { path } : {}) });
  }
  if (existsSync(spec) && statSync(spec).isDirectory() && !isIdxFileName(spec)) {
    return testSplit({ ...config.data, path: spec });
  }
  let idx;
  try {
    idx = readIdx(spec, { missingHint: 'expected a data set name (mnist, fashion-mnist, linear-gaussian), a folder of IDX files or an IDX file' });
  } catch (e) {
    throw new CliError(`--data ${spec}: ${(e as Error).message.replace(`${spec}: `, '')}`);
  }
  if (idx.dims.length < 2) throw new CliError(`--data ${spec}: expected rows ([N, P] or [N, H, W]); got dims [${idx.dims.join(', ')}]`);
  const [n, ...rest] = idx.dims as [number, ...number[]];
  const count = take(n);
  const dim = rest.reduce((a, b) => a * b, 1);
  const x = new Float32Array(count * dim);
  const scale = idx.data instanceof Uint8Array ? 1 / 255 : 1;
  for (let i = 0; i < x.length; i++) x[i] = idx.data[i]! * scale;
  return {
    name: basename(spec),
    x,
    rows: count,
    dim,
    ...(rest.length === 2 ? { imageShape: [rest[0]!, rest[1]!] as const } : {}),
    binarize: idx.data instanceof Uint8Array && config.data.binarize !== 'none' ? 'dynamic' : 'none',
  };
}

/** A path named like an IDX file (`*-idx3-ubyte`, `*.idx`, maybe `.gz`): a directory of that name is a mistake, not a folder of files. */
function isIdxFileName(path: string): boolean {
  return /(-idx\d-ubyte|\.idx)(\.gz)?\/?$/i.test(path);
}

/** [h, w] for pictures of a model's rows: 28×28 for the image sets, else square when P is a square. */
export function imageShapeFor(config: VaeConfig, data?: Dataset): [number, number] | undefined {
  if (data?.imageShape) return [data.imageShape[0], data.imageShape[1]];
  if ((config.data.name === 'mnist' || config.data.name === 'fashion-mnist') && config.model.dataDim === 784) return [28, 28];
  return undefined;
}

/** A short, human message for any thrown value. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * A hidden option under a retired flag that fails naming the flag to use instead
 * (`renamedOption('--ll-samples <K>', '--samples')`): an old command line is an error with a hint,
 * not an "unknown option" or a near miss suggested by spelling.
 */
export function renamedOption(flags: string, now: string): Option {
  const name = flags.split(/[ ,]/)[0]!;
  return new Option(flags).hideHelp().argParser(() => {
    throw new InvalidArgumentError(`${name} is now ${now}.`);
  });
}
