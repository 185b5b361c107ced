import { pathToFileURL } from 'node:url';
import type { ContainerModule } from 'inversify';
import { createContainer, PluginRegistry } from '../../plugins/index.js';
import type { Combo } from './types.js';

/** The decoder, prior and latent size of Burda et al. (2015): 784-200-200 tanh nets, 50 latent dimensions. */
export const BURDA_MODEL = {
  latentDim: 50,
  prior: { type: 'standard-normal' },
  likelihood: { type: 'bernoulli', hidden: [200, 200], activation: 'tanh' },
} as const;

/** The default encoders, in table order (each uses its plugin's default 200-200 tanh network). */
export const DEFAULT_ENCODERS: Record<string, Combo['model']['encoder']> = {
  gaussian: { type: 'gaussian', hidden: [200, 200], activation: 'tanh' },
  planar: { type: 'planar', steps: 10 },
  realnvp: { type: 'realnvp', couplings: 4 },
  hierarchical: { type: 'hierarchical' },
};

function combo(name: string, encoder: Combo['model']['encoder']): Combo {
  return { name, model: { latentDim: BURDA_MODEL.latentDim, encoder, prior: { ...BURDA_MODEL.prior }, likelihood: { ...BURDA_MODEL.likelihood, hidden: [200, 200] } } };
}

/** Encoder names registered with the built-in plugins and the user's plugin modules. */
export async function registeredEncoders(pluginPaths: readonly string[]): Promise<string[]> {
  const modules: ContainerModule[] = [];
  for (const p of pluginPaths) {
    const m = (await import(pathToFileURL(p).href)) as { default?: unknown; plugins?: unknown };
    const v = m.default ?? m.plugins;
    modules.push(...((Array.isArray(v) ? v : [v]) as ContainerModule[]));
  }
  return createContainer({ plugins: modules }).get(PluginRegistry).names('encoder');
}

/**
 * The combinations of the default list: all default encoders that are registered (a missing one
 * is reported on stderr and left out), or the `requested` names — each a default encoder or any
 * registered encoder type (built with its plugin's defaults).
 */
export function defaultCombos(requested: readonly string[] | undefined, available: readonly string[], warn: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Combo[] {
  if (!requested) {
    const names = Object.keys(DEFAULT_ENCODERS);
    const missing = names.filter((n) => !available.includes(DEFAULT_ENCODERS[n]!.type));
    if (missing.length) warn(`tightness: encoder plugin${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not registered; left out (registered: ${available.join(', ')})`);
    const list = names.filter((n) => !missing.includes(n)).map((n) => combo(n, DEFAULT_ENCODERS[n]!));
    if (list.length === 0) throw new Error(`no default encoder is registered (registered: ${available.join(', ') || 'none'})`);
    return list;
  }
  if (requested.length === 0) throw new Error('--encoders: expected a comma-separated list of encoder names; got an empty list');
  return requested.map((n) => {
    const spec = DEFAULT_ENCODERS[n] ?? { type: n };
    if (!available.includes(spec.type)) {
      throw new Error(`--encoders: "${n}" is not a registered encoder; registered: ${available.join(', ')}`);
    }
    return combo(n, spec);
  });
}

/**
 * Combinations from a user's config file: a JSON list whose items are `{ "name"?, "model": {…} }`
 * or bare model sections `{ latentDim, encoder, prior?, likelihood }`. A missing name is the
 * encoder's type (with `#2`, `#3` … for repeats).
 */
export function loadCombos(json: unknown, file: string): Combo[] {
  if (!Array.isArray(json) || json.length === 0) {
    throw new Error(`${file}: expected a non-empty JSON list of combinations ({ "name", "model": { latentDim, encoder, prior, likelihood } }); got ${Array.isArray(json) ? 'an empty list' : typeof json}`);
  }
  const seen = new Map<string, number>();
  return json.map((item: unknown, i) => {
    const o = item as Record<string, unknown>;
    const model = (o && typeof o === 'object' && 'model' in o ? o.model : o) as Combo['model'];
    if (!model || typeof model !== 'object' || !model.encoder || typeof model.encoder.type !== 'string' || !model.likelihood || typeof model.latentDim !== 'number') {
      throw new Error(`${file}[${i}]: expected a model section with latentDim, encoder { type } and likelihood { type }; got ${JSON.stringify(item)}`);
    }
    let name = typeof o.name === 'string' && o.name ? o.name : model.encoder.type;
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    if (count > 1) name = `${name}#${count}`;
    return { name, model: { prior: { type: 'standard-normal' }, ...model } };
  });
}
