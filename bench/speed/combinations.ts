import { ConfigError, PluginRegistry, createContainer, createVae, type ModelConfigInput } from '../../plugins/index.js';
import { DIM, HIDDEN, LATENT } from './data.js';

export interface Combination {
  encoder: string;
  likelihood: string;
  config: ModelConfigInput;
}

/** Option sets tried, in order, for an encoder (the first that builds is used). */
function encoderCandidates(name: string): Record<string, unknown>[] {
  const base = { type: name, hidden: HIDDEN, activation: 'tanh' };
  return [
    { ...base, steps: 10 }, // planar: 10 steps
    { ...base, steps: [{ type: 'planar', count: 10 }] }, // flow: 10 planar steps
    base,
    { ...base, sizes: [25, 25] }, // two-level / ladder: z₁, z₂ summing to 50
    { type: name },
  ];
}

/**
 * Priors tried for an encoder spec, most likely first: a prior of the encoder's own name with its
 * layer sizes (ladder/two-level pairs), then the standard normal, then every other prior. (A
 * failed `createVae` may leave the already-built encoder's variables behind, so the likely
 * match goes first.)
 */
function priorCandidates(registry: PluginRegistry, encoder: Record<string, unknown>): Record<string, unknown>[] {
  const names = registry.names('prior');
  const out: Record<string, unknown>[] = [];
  if (names.includes(encoder.type as string) && encoder.sizes) out.push({ type: encoder.type, sizes: encoder.sizes });
  if (names.includes('standard-normal')) out.push({ type: 'standard-normal' });
  for (const n of names) out.push({ type: n }, { type: n, sizes: [25, 25] });
  return out;
}

/** Every registered encoder × the Bernoulli and Gaussian likelihoods, with a config that builds; the others are listed in `skipped`. */
export function combinations(filter: RegExp | undefined, skipped: string[]): Combination[] {
  const registry = createContainer().get(PluginRegistry);
  const likelihoods = registry.names('likelihood').filter((n) => n === 'bernoulli' || n === 'gaussian');
  const out: Combination[] = [];
  for (const encoder of registry.names('encoder')) {
    for (const likelihood of likelihoods) {
      const key = `${encoder}/${likelihood}`;
      if (filter && !filter.test(key)) continue;
      let found: ModelConfigInput | null = null;
      let lastError = '';
      search: for (const enc of encoderCandidates(encoder)) {
        for (const prior of priorCandidates(registry, enc)) {
          const config: ModelConfigInput = {
            latentDim: LATENT,
            dataDim: DIM,
            encoder: enc as ModelConfigInput['encoder'],
            prior: prior as ModelConfigInput['encoder'],
            likelihood: { type: likelihood, hidden: HIDDEN, activation: 'tanh' },
            seed: 1,
          };
          try {
            createVae(config).dispose();
            found = config;
            break search;
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            lastError = e.message;
          }
        }
      }
      if (found) out.push({ encoder, likelihood, config: found });
      else skipped.push(`${key}: no configuration builds (${lastError})`);
    }
  }
  return out;
}
