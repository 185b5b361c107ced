import { z } from 'zod';
import { createContainer } from '../config/create-vae.js';
import { PLUGIN_ROLES, type PluginFactory } from '../config/plugin.js';
import { PluginRegistry } from '../config/plugin-registry.js';
import { loadUserPlugins, type CliIo } from './support.js';

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema | false;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  description?: string;
  exclusiveMinimum?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
};

/** One option of a plugin, as `vaekit plugins` shows it. */
export interface PluginOptionInfo {
  name: string;
  /** Human description of the accepted values ("list of positive integers", `"tanh" | "relu"`). */
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

export interface PluginInfo {
  role: string;
  name: string;
  description: string;
  options: PluginOptionInfo[];
  /** The path of the --plugin module that contributed it (absent for built-ins). */
  source?: string;
}

/** A short reading of a JSON schema ("positive integer", "list of numbers", `"a" | "b"`). */
export function describeSchema(s: JsonSchema | false | undefined): string {
  if (!s) return 'nothing';
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(describeSchema).join(' | ');
  const type = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  switch (type) {
    case 'integer':
    case 'number': {
      const word = type === 'integer' ? 'integer' : 'number';
      if (s.exclusiveMinimum === 0) return `positive ${word}`;
      if (s.minimum === 0) return `non-negative ${word}`;
      if (s.minimum !== undefined) return `${word} ≥ ${s.minimum}`;
      return word;
    }
    case 'array': {
      if (s.prefixItems) return `[${s.prefixItems.map(describeSchema).join(', ')}]`;
      const item = describeSchema(s.items);
      const plural = item.startsWith('"') || item.includes('|') ? `(${item})` : /(x|s)$/.test(item) ? item : item.replace(/^(\S+ )?(\S+)$/, (_m, a = '', b) => `${a}${b}s`);
      return `list of ${plural}${s.minItems ? ` (at least ${s.minItems})` : ''}`;
    }
    case 'object':
      if (s.properties && Object.keys(s.properties).length > 0) {
        return `{ ${Object.entries(s.properties)
          .map(([k, v]) => `${k}${s.required?.includes(k) ? '' : '?'}: ${describeSchema(v)}`)
          .join(', ')} }`;
      }
      return 'object';
    case 'boolean':
      return 'true | false';
    case 'string':
      return 'string';
    default:
      return type ?? 'any';
  }
}

/** The options of a factory, derived from its zod schema (z.toJSONSchema). */
export function pluginOptions(factory: PluginFactory): PluginOptionInfo[] {
  let schema: JsonSchema;
  try {
    schema = z.toJSONSchema(factory.options as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch {
    return [];
  }
  return Object.entries(schema.properties ?? {}).map(([name, s]) => ({
    name,
    type: describeSchema(s),
    required: schema.required?.includes(name) === true && s.default === undefined,
    ...(s.default !== undefined ? { default: s.default } : {}),
    ...(s.description ? { description: s.description } : {}),
  }));
}

/** Every registered plugin (built-ins and `--plugin` modules), by role and name. */
export async function listPlugins(pluginPaths: readonly string[] = []): Promise<PluginInfo[]> {
  const user = await loadUserPlugins(pluginPaths);
  const builtinNames = new Set(createContainer().get(PluginRegistry).all().map((f) => `${f.role}/${f.name}`));
  const sources = new Map<string, string>();
  for (const u of user) {
    for (const f of createContainer({ plugins: [u.module], builtins: false }).get(PluginRegistry).all()) sources.set(`${f.role}/${f.name}`, u.path);
  }
  const registry = createContainer({ plugins: user.map((u) => u.module) }).get(PluginRegistry);
  const out: PluginInfo[] = [];
  for (const role of PLUGIN_ROLES) {
    for (const name of registry.names(role)) {
      const f = registry.get(role, name, role);
      const source = sources.get(`${role}/${name}`);
      out.push({
        role,
        name,
        description: f.description,
        options: pluginOptions(f),
        ...(source ? { source: builtinNames.has(`${role}/${name}`) ? `${source} (replaces the built-in)` : source } : {}),
      });
    }
  }
  return out;
}

const ROLE_TITLES: Record<string, string> = {
  encoder: 'Encoders q(z|x)            model.encoder',
  prior: 'Priors p(z)                 model.prior',
  likelihood: 'Likelihoods p(x|z)          model.likelihood',
  'flow-step': 'Flow steps (inside flow encoders: { "type": "flow", "steps": [{ "type": … }] })',
  objective: 'Objectives                  train.objective',
};

/** The text of `vaekit plugins`. */
export function formatPlugins(list: readonly PluginInfo[]): string {
  const lines: string[] = [];
  for (const role of PLUGIN_ROLES) {
    const items = list.filter((p) => p.role === role);
    if (items.length === 0) continue;
    lines.push(ROLE_TITLES[role] ?? role);
    for (const p of items) {
      lines.push(`  ${p.name}${p.source ? `   [from ${p.source}]` : ''}`);
      lines.push(`      ${p.description}`);
      if (p.options.length === 0) lines.push('      (no options)');
      const width = Math.max(0, ...p.options.map((o) => o.name.length));
      for (const o of p.options) {
        const def = o.default !== undefined ? `  (default ${JSON.stringify(o.default)})` : o.required ? '  (required)' : '  (optional)';
        lines.push(`      ${o.name.padEnd(width)}  ${o.type}${def}${o.description ? ` — ${o.description}` : ''}`);
      }
    }
    lines.push('');
  }
  lines.push('Use one in a config as { "type": "<name>", …options }, e.g. "encoder": { "type": "gaussian", "hidden": [200, 200] }.');
  return `${lines.join('\n')}\n`;
}

export async function pluginsCommand(args: { plugin?: string[]; json?: boolean }, io: CliIo): Promise<number> {
  const list = await listPlugins(args.plugin);
  io.out(args.json ? `${JSON.stringify(list, null, 2)}\n` : formatPlugins(list));
  return 0;
}
