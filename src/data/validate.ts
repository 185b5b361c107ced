import type { Dataset } from './dataset.js';

function where(data: Dataset, i: number): string {
  const row = Math.floor(i / data.dim);
  const col = i % data.dim;
  return `'${data.name}' row ${row}, column ${col}`;
}

/** Value arrays found finite by `checkFinite` (a set is scanned once, however many batches it gives). */
const finiteArrays = new WeakSet<Float32Array>();

/**
 * Throws, naming the first offending row, column and value, unless every value is finite.
 * One pass over the values; an array that passed is remembered and not scanned again (so do not
 * write NaN into a set's values after it was checked).
 */
export function checkFinite(data: Dataset): void {
  const x = data.x;
  if (finiteArrays.has(x)) return;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw new Error(`${where(data, i)}: expected a finite value; got ${x[i]}`);
  }
  finiteArrays.add(x);
}

/** For each value array, the validators (a likelihood's `validateData`) it has passed. */
const passed = new WeakMap<Float32Array, WeakSet<object>>();

/**
 * Runs `validate(x)` unless `x` already passed that same validator (the same function: one
 * likelihood class's rule): a data set given to `train()` again — a bench's blocks, a page that
 * trains in chunks — is not scanned again. Like `checkFinite`, it trusts the values not to
 * change after they passed.
 */
export function validateOnce(x: Float32Array, validator: object, validate: () => void): void {
  let seen = passed.get(x);
  if (seen?.has(validator)) return;
  validate();
  if (!seen) passed.set(x, (seen = new WeakSet()));
  seen.add(validator);
}

/**
 * Throws, naming the first offending row, column and value, unless every value is in [0, 1]
 * (what a Bernoulli likelihood and binarisation need).
 */
export function checkUnitInterval(data: Dataset): void {
  const x = data.x;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new Error(`${where(data, i)}: expected a value in [0, 1] (a Bernoulli likelihood or binarisation needs one); got ${v}`);
    }
  }
}

/** Throws a clear error when the set's rows are not as wide as the model's data dimension. */
export function checkWidth(data: Dataset, expectedDim: number, modelName = 'the model'): void {
  if (data.dim !== expectedDim) {
    throw new Error(
      `model.dataDim: ${modelName} expects rows of width ${expectedDim}; the data set '${data.name}' has rows of width ${data.dim} (set model.dataDim to ${data.dim})`,
    );
  }
}
