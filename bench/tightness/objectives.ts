import type { Combo } from './types.js';

/** A training objective of the comparison: a `train.objective` spec and its label in the tables. */
export interface ObjectiveChoice {
  label: string;
  spec: { type: string; samples: number; gradient?: string };
}

/**
 * Parses `--objectives elbo,iwae:10,iwae-dreg:10`: each entry `<type>[-<gradient>][:<K>]`, the
 * type an objective plugin (elbo, iwae, …), the gradient estimator (reparam when absent: stl,
 * dreg) and K (1 when absent). The objective's own schema checks the values when it is built.
 */
export function parseObjectives(list: string): ObjectiveChoice[] {
  const out = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*?)(?:-(reparam|stl|dreg))?(?::(\d+))?$/.exec(entry);
      if (!m) throw new Error(`--objectives: expected entries like elbo, elbo-stl, iwae:10, iwae-dreg:10; got ${JSON.stringify(entry)}`);
      const samples = m[3] === undefined ? 1 : Number(m[3]);
      if (!(samples >= 1)) throw new Error(`--objectives: K must be a positive integer; got ${JSON.stringify(entry)}`);
      return { label: entry, spec: { type: m[1]!, samples, ...(m[2] ? { gradient: m[2] } : {}) } };
    });
  if (out.length === 0) throw new Error('--objectives: expected at least one objective');
  return out;
}

/** Every combination trained with every objective (`gaussian · iwae-dreg:10`); one objective keeps the names. */
export function combosByObjective(combos: readonly Combo[], objectives: readonly ObjectiveChoice[]): Combo[] {
  return combos.flatMap((c) => objectives.map((o) => ({ ...c, name: objectives.length === 1 ? c.name : `${c.name} · ${o.label}`, objective: o.spec })));
}
