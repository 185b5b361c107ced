/**
 * Command-line overrides of a config: `--set path=value` for any field (repeatable; the value is
 * JSON when it parses as JSON — `3`, `true`, `[100, 100]`, `{"type": "iwae", "samples": 5}` — and
 * a string otherwise) and flags for the common ones: `--seed` (train.seed), `--learning-rate`
 * (train.learningRate), `--epochs` (train.epochs), `--rows` (data.limit). They are applied in
 * that order, flags last, to the config as read, and the result is validated as a whole by the
 * config schema, so an override is held to the same rules as the file (and named in the error).
 */
import { Option } from 'commander';
import { parseConfig, type VaeConfig } from '../config/schema.js';
import { collect, CliError, messageOf, nonNegativeInt, positiveInt, UsageError } from './support.js';

export interface OverrideArgs {
  set?: string[];
  seed?: number;
  learningRate?: number;
  epochs?: number;
  rows?: number;
}

/** One override: the config path, the value, and how it was written (for messages). */
export interface ConfigOverride {
  path: string[];
  value: unknown;
  source: string;
}

const SEGMENT = /^[A-Za-z_$][\w$]*$/;

/** Parses `path=value` (what `--set` takes); a UsageError says what is malformed. */
export function parseSet(text: string): ConfigOverride {
  const eq = text.indexOf('=');
  if (eq < 0) throw new UsageError(`--set ${JSON.stringify(text)}: expected path=value (e.g. --set train.learningRate=0.003)`);
  const path = text.slice(0, eq).trim().split('.');
  const bad = path.find((s) => !SEGMENT.test(s));
  if (bad !== undefined) throw new UsageError(`--set ${JSON.stringify(text)}: expected a dotted config path before "=" (e.g. model.encoder.hidden); got the segment ${JSON.stringify(bad)}`);
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // not JSON: the string as written (`--set data.name=fashion-mnist`)
  }
  return { path, value, source: `--set ${text}` };
}

/** The overrides given on the command line, in the order they apply. */
export function configOverrides(args: OverrideArgs): ConfigOverride[] {
  const out = (args.set ?? []).map(parseSet);
  const flag = (value: number | undefined, path: string, name: string) => {
    if (value !== undefined) out.push({ path: path.split('.'), value, source: `${name} ${value}` });
  };
  flag(args.seed, 'train.seed', '--seed');
  flag(args.learningRate, 'train.learningRate', '--learning-rate');
  flag(args.epochs, 'train.epochs', '--epochs');
  flag(args.rows, 'data.limit', '--rows');
  return out;
}

/** A copy of `config` with the value set at `path` (missing objects on the way are created). */
function setPath(config: unknown, o: ConfigOverride): unknown {
  const root = structuredClone(config) as Record<string, unknown>;
  let node = root;
  o.path.forEach((key, i) => {
    if (i === o.path.length - 1) {
      node[key] = o.value;
      return;
    }
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      throw new CliError(`${o.source}: ${o.path.slice(0, i + 1).join('.')} is ${JSON.stringify(next)}, not an object with fields`);
    }
    node = node[key] as Record<string, unknown>;
  });
  return root;
}

/** Applies the overrides and validates the result; errors name the override and the field. */
export function applyConfigOverrides(config: VaeConfig, overrides: readonly ConfigOverride[]): VaeConfig {
  if (overrides.length === 0) return config;
  let raw: unknown = config;
  for (const o of overrides) raw = setPath(raw, o);
  try {
    return parseConfig(raw);
  } catch (e) {
    throw new CliError(`the config after ${overrides.map((o) => o.source).join(', ')}: ${messageOf(e)}`);
  }
}

/** The override options of `vaekit train` (besides --epochs and --learning-rate, which it declares itself). */
export const overrideOptions = (): Option[] => [
  new Option('--set <path=value>', 'override any config field, e.g. --set model.encoder.hidden=[100,100] (value: JSON, or a string); repeatable').argParser(collect).default([]),
  new Option('--seed <n>', 'override train.seed').argParser(nonNegativeInt('--seed')),
  new Option('--rows <n>', 'override data.limit (train on the first N rows)').argParser(positiveInt('--rows')),
];
