import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVae, parseConfig } from '../../plugins/index.js';
import { jsonErrorOffset, lineColumn, parseJsonText } from '../../src/cli/json-position.js';
import { describeSchema, formatPlugins, listPlugins } from '../../src/cli/plugins-command.js';
import { runCli } from '../../src/cli/main.js';
import { NAN_PLUGIN, ROOT } from './helpers.js';

describe('vaekit plugins', () => {
  it('lists every registered plugin by role with options and defaults from its zod schema, user plugins included', async () => {
    const list = await listPlugins([NAN_PLUGIN]);
    const gaussian = list.find((p) => p.role === 'encoder' && p.name === 'gaussian')!;
    expect(gaussian.options).toEqual([
      { name: 'hidden', type: 'list of positive integers', required: false, default: [200, 200] },
      { name: 'activation', type: expect.stringContaining('"tanh" | "relu"'), required: false, default: 'tanh' },
    ]);
    const planar = list.find((p) => p.role === 'encoder' && p.name === 'planar')!;
    expect(planar.options.find((o) => o.name === 'steps')).toMatchObject({ type: 'positive integer', default: 10 });
    const realnvp = list.find((p) => p.role === 'encoder' && p.name === 'realnvp')!;
    expect(realnvp.options.find((o) => o.name === 'couplings')).toMatchObject({ default: 4 });
    const user = list.find((p) => p.name === 'nan-bernoulli')!;
    expect(user).toMatchObject({ role: 'likelihood', source: NAN_PLUGIN, options: [{ name: 'hidden', default: [32] }] });
    expect(list.filter((p) => p.role === 'prior').map((p) => p.name)).toContain('standard-normal');

    const text = formatPlugins(list);
    expect(text).toMatch(/Encoders q\(z\|x\) +model\.encoder\n {2}flow\n/);
    expect(text).toContain('      hidden      list of positive integers  (default [200,200])');
    expect(text).toContain(`  nan-bernoulli   [from ${NAN_PLUGIN}]`);
  });

  it('reads JSON schemas as short phrases', () => {
    expect(describeSchema({ type: 'array', items: { type: 'integer', exclusiveMinimum: 0 } })).toBe('list of positive integers');
    expect(describeSchema({ type: 'array', prefixItems: [{ type: 'integer' }, { type: 'number' }] })).toBe('[integer, number]');
    expect(describeSchema({ anyOf: [{ const: 0 }, { const: 1 }] })).toBe('0 | 1');
    expect(describeSchema({ type: 'number', minimum: 0 })).toBe('non-negative number');
  });
});

describe('vaekit bench', () => {
  it('runs the bench script in a child process with the options passed through', async () => {
    let err = '';
    const code = await runCli(['bench', 'tightness', '--help'], { out: () => {}, err: (t) => void (err += t) });
    expect(err).toContain('running bench/tightness.ts --help');
    expect(code).toBe(0);
  });
});

describe('configs/', () => {
  const files = readdirSync(join(ROOT, 'configs')).filter((f) => f.endsWith('.json'));

  it('has a config for every built-in encoder × likelihood on MNIST and Fashion-MNIST', () => {
    for (const data of ['mnist', 'fashion-mnist']) {
      for (const enc of ['gaussian', 'planar', 'realnvp']) {
        for (const lik of ['bernoulli', 'gaussian']) expect(files).toContain(`${data}-${enc}-${lik}.json`);
      }
    }
  });

  it('every file parses and builds a model', () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const f of files) {
      const config = parseConfig(JSON.parse(readFileSync(join(ROOT, 'configs', f), 'utf8')));
      const vae = createVae(config);
      try {
        expect(vae.parameterCount(), f).toBeGreaterThan(0);
        expect(vae.dataDim, f).toBe(config.model.dataDim);
        // Gaussian decoders get intensities, Bernoulli decoders binarised images.
        if (config.model.likelihood.type === 'gaussian' && config.data.name !== 'linear-gaussian') expect(config.data.binarize, f).toBe('none');
        if (config.model.likelihood.type === 'bernoulli') expect(config.data.binarize, f).not.toBe('none');
      } finally {
        vae.dispose();
      }
    }
  });
});

describe('JSON error positions', () => {
  it('finds the first offending character, as 1-based line and column', () => {
    expect(jsonErrorOffset('{"a": 1}')).toBeNull();
    expect(jsonErrorOffset('{"a": }')).toBe(6);
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonErrorOffset('{"a": [1, 2')).toBe(11);
    expect(jsonErrorOffset('{"a": 01}')).toBe(7);
    expect(jsonErrorOffset('{"a": "x\ny"}')).toBe(8);
    expect(jsonErrorOffset('[1] x')).toBe(4);
    expect(lineColumn('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
    expect(() => parseJsonText('{\n  "a": 1\n  "b": 2\n}', 'c.json')).toThrow(/^c\.json:3:3: not valid JSON: Expected ',' or '}' after property value\n {2}3 \| {3}"b": 2\n {4}\| {3}\^$/);
    expect(() => parseJsonText('', 'e.json')).toThrow(/^e\.json:1:1: not valid JSON: the text ends too early/);
  });
});
