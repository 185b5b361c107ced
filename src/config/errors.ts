import type { z } from 'zod';
import { SAMPLE_COUNT_HINTS } from '../core/option-keys.js';

/** A configuration error: names the field, the value received and what was expected. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly received: unknown,
    readonly expected: string,
  ) {
    super(`${field || '(config)'}: expected ${expected}; got ${show(received)}`);
    this.name = 'ConfigError';
  }
}

/**
 * A value as the user wrote it, for messages: numbers as JavaScript prints them (NaN, Infinity,
 * −1; JSON would print null for the first two), other values as JSON, cut at 120 characters.
 */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? `\u0000${x}\u0000` : x));
    if (s === undefined) return String(v);
    const shown = s.replace(/"\\u0000(NaN|-?Infinity)\\u0000"/g, '$1');
    return shown.length > 120 ? `${shown.slice(0, 117)}...` : shown;
  } catch {
    return String(v);
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function joinPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}

/** Parses `value` with a zod schema, turning the first problem into a ConfigError at `base`. */
/** Old or confusable keys of a config, with what to write instead. */
const CONFIG_KEY_HINTS: Readonly<Record<string, string>> = {
  ...SAMPLE_COUNT_HINTS,
  decoder: 'p(x|z) is "likelihood" (the decoder\'s role).',
};

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, base: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    const field = joinPath(base, [...issue.path, keys[0]!]);
    const parent = valueAt(value, issue.path);
    const known =
      'shape' in schema && typeof (schema as { shape?: unknown }).shape === 'object' && issue.path.length === 0
        ? Object.keys((schema as unknown as { shape: Record<string, unknown> }).shape).join(', ')
        : '';
    const hint = CONFIG_KEY_HINTS[keys[0]!]?.replace(/\.$/, '');
    throw new ConfigError(
      field,
      (parent as Record<string, unknown>)?.[keys[0]!],
      `no such option${hint ? ` — ${hint}` : ''}${known ? ` (known options: ${known})` : ''}`,
    );
  }
  const field = joinPath(base, issue.path);
  const received = valueAt(value, issue.path);
  throw new ConfigError(field, received, expectation(issue, received));
}

const BOUND: Record<string, [string, string]> = { too_small: ['≥', '>'], too_big: ['≤', '<'] };

/** What a zod issue expected, in words ("a finite number", "an integer", "a number > 0", …). */
function expectation(issue: z.core.$ZodIssue, received: unknown): string {
  if (issue.code === 'invalid_type') {
    const want = issue.expected;
    if (want === 'int') return 'an integer';
    if (want === 'number' && typeof received === 'number') return 'a finite number';
    return want;
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
    const [inclusive, exclusive] = BOUND[issue.code]!;
    if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
      return `a number ${issue.inclusive === false ? exclusive : inclusive} ${String(bound)}`;
    }
    if (issue.origin === 'array' || issue.origin === 'set') {
      return `${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)} item${Number(bound) === 1 ? '' : 's'}`;
    }
  }
  return issue.message.replace(/^Invalid (input|option|value): /, '').replace(/^expected /, '');
}
