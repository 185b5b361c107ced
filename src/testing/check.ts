/**
 * What every plugin check returns, independent of any test runner: a named check whose `run()`
 * throws `CheckFailure` (or any error) when the plugin breaks its contract and returns a line of
 * detail (the numbers it compared) when it holds. `runChecks` runs a list and returns one result
 * per check; `assertChecks` throws one error listing every failure.
 */
import { tf } from '../core/tf.js';

export interface PluginCheck {
  /** A sentence: what must hold (`matches log|det| of the autodiff Jacobian (D = 2)`). */
  readonly name: string;
  /** Runs the check: returns the detail when it holds, throws when it does not. */
  run(): string;
}

export interface CheckResult {
  name: string;
  passed: boolean;
  /** The numbers compared (passed) or the error message (failed). */
  detail: string;
}

/** A check's contract does not hold; the message says which numbers disagreed. */
export class CheckFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailure';
  }
}

/** Every failed check of a plugin, listed in the message. */
export class PluginCheckError extends Error {
  constructor(
    readonly subject: string,
    readonly results: readonly CheckResult[],
  ) {
    const failed = results.filter((r) => !r.passed);
    super(`${subject}: ${failed.length} of ${results.length} checks failed:\n${failed.map((r) => `  ✗ ${r.name}: ${r.detail}`).join('\n')}`);
    this.name = 'PluginCheckError';
  }
}

/** Throws a CheckFailure with `message` unless `condition` holds. */
export function ensure(condition: boolean, message: () => string): void {
  if (!condition) throw new CheckFailure(message());
}

/** Runs each check, catching its error into a failed result. */
export function runChecks(checks: readonly PluginCheck[]): CheckResult[] {
  return checks.map((c) => {
    try {
      return { name: c.name, passed: true, detail: c.run() };
    } catch (e) {
      return { name: c.name, passed: false, detail: e instanceof Error ? e.message : String(e) };
    }
  });
}

/** Runs the checks and throws a PluginCheckError naming every failure; returns the results when all pass. */
export function assertChecks(subject: string, checks: readonly PluginCheck[]): CheckResult[] {
  const results = runChecks(checks);
  if (results.some((r) => !r.passed)) throw new PluginCheckError(subject, results);
  return results;
}

/** Whether every value of every tensor is finite. */
export function allFinite(...ts: tf.Tensor[]): boolean {
  return ts.every((t) => (t.dataSync() as Float32Array).every((v) => Number.isFinite(v)));
}

/** Runs `step` twice to warm up, then `repeats` more, and fails if the live tensor count moves. */
export function checkNoLeak(step: () => void, repeats = 3): string {
  step();
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) {
    step();
    const now = tf.memory().numTensors;
    ensure(now === before, () => `the live tensor count went from ${before} to ${now} after ${i + 1} more call(s)`);
  }
  return `${before} live tensors before and after ${repeats} calls`;
}

/** Shape as text, `[3, 4, 2]`. */
export const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Fails unless `t` has shape `expected`. */
export function ensureShape(what: string, t: tf.Tensor, expected: readonly number[]): void {
  ensure(t.shape.length === expected.length && t.shape.every((v, i) => v === expected[i]), () => `${what}: expected shape ${shapeText(expected)}; got ${shapeText(t.shape)}`);
}

/** Rejects misspelt option keys (a JavaScript caller gets no type error). */
export function rejectUnknownKeys(what: string, o: object, known: ReadonlySet<string>): void {
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw new TypeError(`${what}: unknown option "${k}"; expected one of ${[...known].join(', ')}`);
  }
}
