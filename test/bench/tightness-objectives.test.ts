import { describe, expect, it } from 'vitest';
import { combosByObjective, parseObjectives } from '../../bench/tightness/objectives.js';

describe('bench/tightness --objectives', () => {
  it('parses <type>[-<gradient>][:<K>] entries into objective specs', () => {
    expect(parseObjectives('elbo, iwae:10,iwae-dreg:10,elbo-stl').map((o) => o.spec)).toEqual([
      { type: 'elbo', samples: 1 },
      { type: 'iwae', samples: 10 },
      { type: 'iwae', samples: 10, gradient: 'dreg' },
      { type: 'elbo', samples: 1, gradient: 'stl' },
    ]);
    expect(parseObjectives('my-user-objective:3')[0]!.spec).toEqual({ type: 'my-user-objective', samples: 3 });
  });

  it('rejects malformed entries, naming the flag and the entry', () => {
    expect(() => parseObjectives('iwae:0')).toThrow('--objectives: K must be a positive integer; got "iwae:0"');
    expect(() => parseObjectives('iwae:ten')).toThrow('--objectives: expected entries like elbo, elbo-stl, iwae:10, iwae-dreg:10; got "iwae:ten"');
    expect(() => parseObjectives(' , ')).toThrow('--objectives: expected at least one objective');
  });

  it('trains every combination with every objective', () => {
    const combo = { name: 'gaussian', model: { latentDim: 2, encoder: { type: 'gaussian' }, likelihood: { type: 'bernoulli' } } };
    const out = combosByObjective([combo], parseObjectives('elbo,iwae-dreg:10'));
    expect(out.map((c) => c.name)).toEqual(['gaussian · elbo', 'gaussian · iwae-dreg:10']);
    expect(out[1]!.objective).toEqual({ type: 'iwae', samples: 10, gradient: 'dreg' });
    expect(combosByObjective([combo], parseObjectives('iwae:5'))[0]!.name).toBe('gaussian');
  });
});
