import { ContainerModule } from 'inversify';
import type { z } from 'zod';
import type { Random } from '../core/random.js';
import type { Encoder } from '../core/encoder.js';

/** The roles a plugin can fill. */
export type PluginRole = 'encoder' | 'prior' | 'likelihood' | 'flow-step' | 'objective';
export const PLUGIN_ROLES: readonly PluginRole[] = ['encoder', 'prior', 'likelihood', 'flow-step', 'objective'];

/** A plugin spec as written in a config: `{ "type": "planar", ...options }`. */
export interface PluginSpec {
  type: string;
  [option: string]: unknown;
}

/** What a factory may use while building its object. */
export interface BuildContext {
  /** The config field this object is built from (`model.encoder`), for error messages. */
  field: string;
  /** Latent dimension D: for an encoder or prior, the total; for a likelihood, the block it sees. */
  latentDim: number;
  /** Width P of a data row. */
  dataDim: number;
  /** The model's seeded random source (weight initialisation, sampling). */
  random: Random;
  /** For flow-step factories: width C of the per-row context h(x) the step's parameters come from (0: global parameters). */
  contextDim?: number;
  /** For flow-step factories: the step's index among the encoder's steps of its type (RealNVP alternates halves with it). */
  stepIndex?: number;
  /**
   * For flow-step factories: how many consecutive steps of this type the config entry still asks
   * for. A factory may return one `StackedFlowStep` (`count`, `forwardEach`) standing for up to this many.
   */
  stepCount?: number;
  /**
   * Builds another registered plugin by spec (a flow encoder builds its steps this way), so
   * plugins never import each other. `field` names the spec's place in the config.
   */
  /** For objective factories: the model's encoder (to refuse an estimator it cannot serve). */
  encoder?: Encoder;
  create<T>(role: PluginRole, spec: unknown, field: string, overrides?: Partial<Omit<BuildContext, 'create'>>): T;
}

export const PluginFactory = Symbol.for('vaekit.PluginFactory');
/**
 * A plugin's contribution: a named factory for one role with an options schema (zod). Bind it
 * in a ContainerModule with `bind(PluginFactory).toConstantValue(factory)`; contributions are
 * multi-injected and looked up by role and name.
 */
export interface PluginFactory<T = unknown, O = unknown> {
  role: PluginRole;
  name: string;
  /** One line shown by `vaekit plugins`. */
  description: string;
  /** Options (everything but `type`), with defaults. Use `.strict()` so typos are caught. */
  options: z.ZodType<O>;
  create(options: O, ctx: BuildContext): T;
}

/** Defines a factory with its option types inferred from the schema. */
export function definePlugin<T, S extends z.ZodType>(f: {
  role: PluginRole;
  name: string;
  description: string;
  options: S;
  create(options: z.output<S>, ctx: BuildContext): T;
}): PluginFactory<T, z.output<S>> {
  return f as unknown as PluginFactory<T, z.output<S>>;
}

/**
 * A plugin module contributing the given factories: what a plugin file default-exports, and
 * what `createVae(config, { plugins: [...] })` and `--plugin` take. Plugin files then need only
 * `vaekit`: `export default definePluginModule(definePlugin({ role: 'prior', … }))`.
 */
export function definePluginModule(...factories: PluginFactory[]): ContainerModule {
  factories.forEach((f, i) => {
    if (f === null || typeof f !== 'object' || typeof f.name !== 'string' || typeof f.create !== 'function' || !PLUGIN_ROLES.includes(f.role)) {
      throw new TypeError(
        `definePluginModule: argument ${i} is not a plugin factory (expected definePlugin({ role: ${PLUGIN_ROLES.map((r) => `'${r}'`).join(' | ')}, name, description, options, create })); got ${
          f === null ? 'null' : typeof f === 'object' ? `an object with keys ${JSON.stringify(Object.keys(f))}` : typeof f
        }`,
      );
    }
  });
  return new ContainerModule(({ bind }) => {
    for (const f of factories) bind(PluginFactory).toConstantValue(f);
  });
}
