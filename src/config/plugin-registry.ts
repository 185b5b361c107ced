import { injectable, multiInject, optional } from 'inversify';
import { SizeError } from '../core/checks.js';
import { tf } from '../core/tf.js';
import { ConfigError, parseWith, show } from './errors.js';
import {
  PluginFactory,
  type BuildContext,
  type PluginRole,
} from './plugin.js';

/**
 * Plugin names that no longer exist, by role: what to write instead (the expectation of the error). Looked up only when no
 * plugin of that name is registered (a user plugin may take the name).
 */
export const RETIRED_PLUGIN_NAMES: Readonly<Partial<Record<PluginRole, Readonly<Record<string, string>>>>> = {
  encoder: { ladder: '"two-level" ("ladder" was an old alias of the two-level encoder q(z₁|x)q(z₂|z₁) of Burda et al. 2015, which is not the Ladder VAE of Sønderby et al. 2016)' },
  prior: { ladder: '"two-level" ("ladder" was an old alias of the two-level prior p(z₂)p(z₁|z₂) of Burda et al. 2015, which is not the Ladder VAE of Sønderby et al. 2016)' },
};

/** Every plugin factory contributed to the container, by role and name. */
@injectable()
export class PluginRegistry {
  private readonly byRole = new Map<PluginRole, Map<string, PluginFactory>>();

  constructor(@multiInject(PluginFactory) @optional() factories: PluginFactory[] = []) {
    for (const f of factories ?? []) this.add(f);
  }

  add(f: PluginFactory): void {
    let m = this.byRole.get(f.role);
    if (!m) this.byRole.set(f.role, (m = new Map()));
    // A later contribution with the same name replaces an earlier one (user plugins win).
    m.set(f.name, f);
  }

  names(role: PluginRole): string[] {
    return [...(this.byRole.get(role)?.keys() ?? [])].sort();
  }

  all(): PluginFactory[] {
    return [...this.byRole.values()].flatMap((m) => [...m.values()]);
  }

  get(role: PluginRole, name: string, field: string): PluginFactory {
    const f = this.byRole.get(role)?.get(name);
    if (!f) {
      const known = this.names(role);
      const retired = RETIRED_PLUGIN_NAMES[role]?.[name];
      if (retired !== undefined) throw new ConfigError(`${field}.type`, name, retired);
      throw new ConfigError(
        `${field}.type`,
        name,
        `a registered ${role} plugin: ${known.length ? known.map((n) => JSON.stringify(n)).join(', ') : '(none registered)'}`,
      );
    }
    return f;
  }

  /** Validates `spec` against the named factory's options and builds the object. */
  create<T>(role: PluginRole, spec: unknown, ctx: Omit<BuildContext, 'create'>): T {
    const field = ctx.field;
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
      throw new ConfigError(field, spec, `an object like { "type": "${this.names(role)[0] ?? 'name'}", ... }`);
    }
    const { type, ...options } = spec as Record<string, unknown>;
    if (typeof type !== 'string') {
      throw new ConfigError(`${field}.type`, type, `a ${role} plugin name: ${this.names(role).map((n) => JSON.stringify(n)).join(', ')}`);
    }
    const factory = this.get(role, type, field);
    const parsed = parseWith(factory.options, options, field);
    const full: BuildContext = {
      ...ctx,
      create: <U>(r: PluginRole, s: unknown, f: string, overrides?: Partial<Omit<BuildContext, 'create'>>) =>
        this.create<U>(r, s, { ...ctx, ...overrides, field: f }),
    };
    const before = new Set(Object.keys(tf.engine().registeredVariables));
    try {
      return factory.create(parsed, full) as T;
    } catch (e) {
      // A plugin that fails half-built leaves no weights behind.
      for (const [name, v] of Object.entries(tf.engine().registeredVariables)) if (!before.has(name)) v.dispose();
      // A size that cannot be allocated is a config error of this plugin's options.
      if (e instanceof SizeError) throw new ConfigError(field, spec, `sizes that fit in memory (model.latentDim ${ctx.latentDim}, model.dataDim ${ctx.dataDim}): ${e.message}`);
      throw e;
    }
  }
}

export { show };
