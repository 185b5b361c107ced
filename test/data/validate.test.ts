import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.js';
import { checkFinite, checkUnitInterval, checkWidth, validateOnce } from '../../src/data/validate.js';

function data(values: number[], dim: number): Dataset {
  return { name: 'tiny', x: Float32Array.from(values), rows: values.length / dim, dim, binarize: 'none' };
}

describe('data validation', () => {
  it('accepts finite values and names the row, column and value of the first non-finite one', () => {
    expect(() => checkFinite(data([0, 1, -2, 3e30, 4, 5], 3))).not.toThrow();
    expect(() => checkFinite(data([0, 1, 2, 3, 4, NaN, Infinity, 0, 0], 3))).toThrow("'tiny' row 1, column 2: expected a finite value; got NaN");
    expect(() => checkFinite(data([0, -Infinity], 2))).toThrow("'tiny' row 0, column 1: expected a finite value; got -Infinity");
  });

  it('accepts [0, 1] and names the first value outside it', () => {
    expect(() => checkUnitInterval(data([0, 1, 0.5, 0.25], 2))).not.toThrow();
    expect(() => checkUnitInterval(data([0, 1, 0.5, 1.5], 2))).toThrow(
      "'tiny' row 1, column 1: expected a value in [0, 1] (a Bernoulli likelihood or binarisation needs one); got 1.5",
    );
    expect(() => checkUnitInterval(data([NaN, 0], 2))).toThrow(/row 0, column 0: .* got NaN/);
    expect(() => checkUnitInterval(data([0, -0.25], 1))).toThrow(/row 1, column 0: .* got -0.25/);
  });

  it('explains a data/model width mismatch', () => {
    expect(() => checkWidth(data([0, 0, 0, 0], 4), 4, 'vae')).not.toThrow();
    expect(() => checkWidth(data([0, 0, 0, 0], 2), 784, 'the VAE')).toThrow(
      "model.dataDim: the VAE expects rows of width 784; the data set 'tiny' has rows of width 2 (set model.dataDim to 2)",
    );
  });
});

describe('validateOnce', () => {
  it('runs a validator once per value array, again for another validator or array, and every time it throws', () => {
    const calls: string[] = [];
    const rule = (name: string, ok: boolean) => () => {
      calls.push(name);
      if (!ok) throw new Error(`${name} refused`);
    };
    const [x, y] = [new Float32Array(4), new Float32Array(4)];
    const [v1, v2, bad] = [{}, {}, {}];
    validateOnce(x, v1, rule('v1 on x', true));
    validateOnce(x, v1, rule('v1 on x', true));
    validateOnce(x, v2, rule('v2 on x', true));
    validateOnce(y, v1, rule('v1 on y', true));
    expect(() => validateOnce(x, bad, rule('bad on x', false))).toThrow('bad on x refused');
    expect(() => validateOnce(x, bad, rule('bad on x', false))).toThrow('bad on x refused');
    expect(calls).toEqual(['v1 on x', 'v2 on x', 'v1 on y', 'bad on x', 'bad on x']);
  });
});
