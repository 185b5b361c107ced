import type { z } from 'zod';

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

export function show(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  try {
    const s = JSON.stringify(v);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
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
    throw new ConfigError(
      field,
      (parent as Record<string, unknown>)?.[keys[0]!],
      known ? `no such option (known options: ${known})` : 'no such option',
    );
  }
  const field = joinPath(base, issue.path);
  const expected = issue.message.replace(/^Invalid (input|option|value): /, '').replace(/^expected /, '');
  throw new ConfigError(field, valueAt(value, issue.path), expected);
}
