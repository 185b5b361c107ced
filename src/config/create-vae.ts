import { Container, ContainerModule } from 'inversify';
import { coreModule } from '../core/core-module.js';
import type { Encoder } from '../core/encoder.js';
import { KlRule } from '../core/kl-rule.js';
import type { Likelihood } from '../core/likelihood.js';
import type { Prior } from '../core/prior.js';
import { Random } from '../core/random.js';
import { Vae, type ModelSpec } from '../core/vae.js';
import type { Objective } from '../core/objective.js';
import { objectivesModule } from './objective-plugins.js';
import { ConfigError } from './errors.js';
import { PluginFactory } from './plugin.js';
import { PluginRegistry } from './plugin-registry.js';
import { parseWith } from './errors.js';
import { configSchema, modelSchema, type ModelConfigInput, type VaeConfigInput } from './schema.js';
import { checkOptionKeys, optionKeys } from '../core/option-keys.js';
import { reinitializeDenseLayers } from '../nn/weight-init.js';

const builtins: ContainerModule[] = [];
const builtinSources: string[] = [];
const withUserPlugins = new WeakSet<Vae>();

/**
 * Registers the modules every container loads before the user's (the package entry registers
 * the built-in plugins here; the core itself never imports a plugin). `source`, the URL of the
 * module that registers them, lets a worker thread (parallel training) register the same ones
 * by importing it.
 */
export function registerBuiltinPlugins(modules: readonly ContainerModule[], source?: string): void {
  for (const m of modules) if (!builtins.includes(m)) builtins.push(m);
  if (source !== undefined && !builtinSources.includes(source)) builtinSources.push(source);
}

/** The URLs of the modules that registered built-in plugins (see `registerBuiltinPlugins`). */
export function builtinPluginSources(): readonly string[] {
  return builtinSources;
}

/** Whether `vae` was built with user plugin modules (which a worker thread cannot rebuild). */
export function builtWithUserPlugins(vae: Vae): boolean {
  return withUserPlugins.has(vae);
}

export interface CreateOptions {
  /** User plugin modules, loaded after the built-ins (a user plugin may replace a built-in name). */
  plugins?: readonly ContainerModule[];
  /** Load the built-in plugins (default true). */
  builtins?: boolean;
  /** Overrides the seed for weight initialisation and sampling. */
  seed?: number;
}

/** A container with the core, the built-in plugins and the user's modules loaded. */
export function createContainer({ plugins = [], builtins: withBuiltins = true }: CreateOptions = {}): Container {
  const container = new Container();
  container.load(coreModule, objectivesModule, ...(withBuiltins ? builtins : []), ...plugins);
  container.bind(PluginRegistry).toSelf().inSingletonScope();
  return container;
}

/** Accepts a whole config (`{ model, data, train, … }`) or just its `model` section. */
function modelSection(config: VaeConfigInput | { model: ModelConfigInput } | ModelConfigInput): {
  model: ReturnType<typeof modelSchema.parse>;
  seed: number;
} {
  const c = config as Record<string, unknown>;
  if (c !== null && typeof c === 'object' && 'model' in c) {
    const full = parseWith(configSchema, c, '');
    return { model: full.model, seed: full.model.seed ?? full.train.seed };
  }
  const model = parseWith(modelSchema, c, 'model');
  return { model, seed: model.seed ?? 1 };
}

/**
 * Builds a Vae from a config: an inversify container with the core module, the built-in plugin
 * modules and any user modules; the encoder, prior and likelihood are looked up by name and
 * their options validated. Unknown names and bad options throw a ConfigError naming the field,
 * the value and the choices.
 *
 * The container is read only through its multi-bound contributions (plugin factories, KL rules:
 * constant values), and the Vae is constructed from the built roles. Resolving a class binding
 * (`toSelf()`) would make inversify plan it with a `WeakRef` to the plan node, and a `WeakRef`
 * target is kept alive until the current job ends (ECMAScript KeepDuringJob): a synchronous loop
 * of createVae/dispose then kept every container and model graph, ~45 KB each, until it yielded.
 */
export function createVae(
  config: VaeConfigInput | { model: ModelConfigInput } | ModelConfigInput,
  options: CreateOptions = {},
): Vae {
  checkOptionKeys('createVae', options, optionKeys<CreateOptions>()('plugins', 'builtins', 'seed'));
  const { model, seed: configSeed } = modelSection(config);
  const seed = options.seed ?? configSeed;
  const container = createContainer(options);
  const registry = new PluginRegistry(container.getAll(PluginFactory, { optional: true }));
  const random = new Random(seed);
  const base = { latentDim: model.latentDim, dataDim: model.dataDim, random };

  const encoder = registry.create<Encoder>('encoder', model.encoder, { ...base, field: 'model.encoder' });
  let prior: Prior | undefined;
  let likelihood: Likelihood;
  try {
    prior = registry.create<Prior>('prior', model.prior, { ...base, field: 'model.prior' });
    const encSizes = encoder.latentSizes ?? [encoder.latentDim];
    const priorSizes = prior.latentSizes ?? [prior.latentDim];
    if (encSizes.join(',') !== priorSizes.join(',')) {
      throw new ConfigError(
        'model.prior',
        model.prior,
        `a prior whose latent layers match the encoder's: encoder "${encoder.name}" produces layers [${encSizes.join(', ')}], ` +
          `prior "${prior.name}" models [${priorSizes.join(', ')}]`,
      );
    }
    likelihood = registry.create<Likelihood>('likelihood', model.likelihood, {
      ...base,
      latentDim: encSizes[0]!,
      field: 'model.likelihood',
    });
    if (likelihood.dataDim !== model.dataDim) {
      likelihood.dispose();
      throw new ConfigError('model.likelihood', model.likelihood, `a likelihood of width ${model.dataDim}; it models ${likelihood.dataDim}`);
    }
  } catch (e) {
    // A failed build releases what it already made.
    encoder.dispose();
    prior?.dispose();
    throw e;
  }
  const buildObjective = (spec: unknown, field: string) =>
    registry.create<Objective>('objective', spec, { ...base, field, encoder });
  const vae = new Vae(encoder, prior, likelihood, random, { ...model } as ModelSpec, container.getAll(KlRule, { optional: true }), buildObjective);
  // Plugins build their layers Glorot-initialised; another init redraws them all, in variable order.
  if (model.init !== undefined && model.init !== 'glorot') reinitializeDenseLayers(vae.variables(), model.init, random);
  if ((options.plugins ?? []).length > 0 || options.builtins === false) withUserPlugins.add(vae);
  return vae;
}
