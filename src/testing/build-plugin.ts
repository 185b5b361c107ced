/**
 * Builds one plugin object by role and config spec, the way `createVae` does (its options
 * validated by the factory's schema), from the built-in plugins (registered by importing
 * `vaekit`) and the given modules — so a check runs on exactly what a config would build:
 *
 *   assertPrior('laplace', { make: (D, random) => buildPlugin('prior', { type: 'laplace', scale: 1 }, { latentDim: D, random, plugins: [laplaceModule] }) });
 */
import type { ContainerModule } from 'inversify';
import type { Random } from '../core/random.js';
import type { PluginRole } from '../config/plugin.js';
import { PluginRegistry } from '../config/plugin-registry.js';
import { createContainer } from '../config/create-vae.js';
import { rejectUnknownKeys } from './check.js';

export interface BuildPluginOptions {
  latentDim: number;
  /** Width P of a data row (default 1; likelihoods and encoders need theirs). */
  dataDim?: number;
  random: Random;
  /** Plugin modules to load besides the built-in ones. */
  plugins?: readonly ContainerModule[];
  /** For flow steps: context width C (0: global parameters). */
  contextDim?: number;
  /** For flow steps: the step's index among its encoder's steps. */
  stepIndex?: number;
  /** For flow steps: how many consecutive steps the entry asks for (default 1). */
  stepCount?: number;
}

const KNOWN = new Set(['latentDim', 'dataDim', 'random', 'plugins', 'contextDim', 'stepIndex', 'stepCount']);

export function buildPlugin<T>(role: PluginRole, spec: { type: string; [option: string]: unknown }, o: BuildPluginOptions): T {
  rejectUnknownKeys('buildPlugin', o, KNOWN);
  const registry = createContainer({ plugins: o.plugins ?? [] }).get(PluginRegistry);
  const { plugins: _plugins, dataDim = 1, ...ctx } = o;
  return registry.create<T>(role, spec, { ...ctx, dataDim, field: `${role} ${JSON.stringify(spec.type)}` });
}
