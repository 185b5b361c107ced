/**
 * The config's JSON Schema and reference: generated from the zod schema (up to date in the repo),
 * every field documented, and the schema agreeing with the zod validation — every config in
 * configs/ valid (and pointing to the schema), broken ones rejected at the field that is wrong.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { createVae, parseConfig } from '../../plugins/index.js';
import { undocumentedFields } from '../../src/config/config-reference.js';
import { configReferenceFiles } from '../../scripts/config-schema.js';

const root = new URL('../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');
const schema = JSON.parse(read('schema/vaekit-config.schema.json')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const configs = readdirSync(new URL('configs/', root)).filter((f) => f.endsWith('.json'));

describe('the config JSON Schema and reference', () => {
  it('are what `npm run config-schema` writes from the zod schema (run it after changing the schema)', () => {
    for (const [path, text] of Object.entries(configReferenceFiles())) expect(read(path), path).toBe(text);
  });

  it('document every config field, and nothing that is not one', () => {
    expect(undocumentedFields()).toEqual({ missing: [], stale: [] });
  });

  it(`accept every config in configs/ (${configs.length} files), each pointing to the schema`, () => {
    expect(configs.length).toBeGreaterThan(10);
    for (const f of configs) {
      const json = JSON.parse(read(`configs/${f}`)) as Record<string, unknown>;
      expect(json.$schema, f).toBe('../schema/vaekit-config.schema.json');
      expect(validate(json), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(() => parseConfig(json), f).not.toThrow();
    }
  });

  const base = JSON.parse(read('configs/quick-mnist.json')) as Record<string, Record<string, unknown>>;
  const broken: [string, (c: typeof base) => void, string][] = [
    ['a negative learning rate', (c) => void (c.train!.learningRate = -1), '/train/learningRate'],
    ['a misspelt key (learningrate)', (c) => void (c.train!.learningrate = 0.1), '/train'],
    ['an objective option out of range', (c) => void (c.train!.objective = { type: 'iwae', samples: 0 }), '/train/objective/samples'],
    ['a fractional latentDim', (c) => void (c.model!.latentDim = 2.5), '/model/latentDim'],
    ['an unknown option of a built-in encoder', (c) => void (c.model!.encoder = { type: 'gaussian', hiden: [10] }), '/model/encoder'],
  ];
  for (const [what, breakIt, at] of broken) {
    it(`rejects a config with ${what}, at ${at}, as the zod validation does`, () => {
      const c = structuredClone(base);
      breakIt(c);
      expect(validate(c)).toBe(false);
      expect(validate.errors!.map((e) => e.instancePath)).toContain(at);
      // Model plugin options are checked when the model is built (createVae), objectives' when training starts, the rest by parseConfig.
      if (!what.startsWith('an objective')) expect(() => createVae(c as never).dispose()).toThrow();
    });
  }

  it('rejects a built-in objective with an option out of range, at /train/objective/samples, as the objective plugin does', () => {
    const c = structuredClone(base);
    c.train!.objective = { type: 'iwae', samples: 0 };
    expect(validate(c)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath)).toContain('/train/objective/samples');
    // The objective is built (and its options checked by its plugin) when training starts.
    const vae = createVae(c as never);
    try {
      expect(() => vae.objective(c.train!.objective)).toThrow(/train\.objective/);
    } finally {
      vae.dispose();
    }
  });

  it('accepts a plugin of your own by name with any options', () => {
    const c = structuredClone(base);
    c.model!.prior = { type: 'laplace', scale: 2 };
    expect(validate(c), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe('old names in a config', () => {
  const model = { latentDim: 2, dataDim: 3, encoder: { type: 'gaussian' }, likelihood: { type: 'gaussian' } };
  it('are refused with the name to use: eval.llSamples → samples, eval.k → samples, model.decoder → likelihood', () => {
    expect(() => parseConfig({ model, eval: { llSamples: 100 } })).toThrow(
      /^eval\.llSamples: expected no such option — K of log p̂\(x\) is "samples" \(it was "llSamples"\); got 100$/,
    );
    expect(() => parseConfig({ model, eval: { k: 100 } })).toThrow(/^eval\.k: expected no such option — K, the samples per row, is "samples"; got 100$/);
    expect(() => parseConfig({ model: { ...model, decoder: { type: 'bernoulli' } } })).toThrow(/^model\.decoder: expected no such option — p\(x\|z\) is "likelihood"/);
  });
});
