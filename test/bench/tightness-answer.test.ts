import { describe, expect, it } from 'vitest';
import { answerParagraph, type TableRecord } from '../../bench/tightness/report.js';
import { pairedDifference, summarizeSeeds, welchDifference } from '../../src/eval/seed-stats.js';

const model = (name: string, gaps: number[]) => ({ name, encoder: { type: name }, parameters: null, seeds: gaps.map((g, i) => ({ seed: i + 1 }) as never), summary: { gap: summarizeSeeds(gaps) }, errors: [] });

describe('tightness answer paragraph', () => {
  it('states each encoder’s frozen Δ gap with its interval, the share of the baseline gap closed, and the co-trained verdict', () => {
    const g = [10, 9, 11, 10];
    const planar = [6, 5.5, 6.5, 6.2]; // clearly tighter
    const realnvp = [9, 10, 11.5, 8]; // indistinguishable
    const frozen: TableRecord = {
      kind: 'frozen', method: 'paired', baseline: 'gaussian',
      models: [model('gaussian', g), model('planar', planar), model('realnvp', realnvp)],
      differences: { planar: { gap: pairedDifference(planar, g) }, realnvp: { gap: pairedDifference(realnvp, g) } },
    };
    const coPlanar = [9, 11, 8, 12];
    const co: TableRecord = {
      kind: 'co-trained', method: 'welch', baseline: 'gaussian',
      models: [model('gaussian', g), model('planar', coPlanar)],
      differences: { planar: { gap: welchDifference(coPlanar, g) } },
    };
    const text = answerParagraph([co, frozen]);
    const dp = pairedDifference(planar, g);
    expect(dp.upper).toBeLessThan(0);
    const f = (v: number) => (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(2);
    expect(text).toContain(`over 4 seeds`);
    expect(text).toContain("against the same p(x, z) (gaussian's frozen decoder and prior, per seed)");
    expect(text).toContain(`planar tightens the bound: Δ gap ${f(dp.mean)} nats [${f(dp.lower)}, ${f(dp.upper)}] (${Math.round((-100 * dp.mean) / 10)} % of gaussian's gap of 10.00 nats)`);
    expect(f(dp.mean)).toBe('−3.95');
    const dr = pairedDifference(realnvp, g);
    expect(text).toContain(`realnvp cannot be told apart from gaussian: Δ gap ${f(dr.mean)} nats [${f(dr.lower)}, ${f(dr.upper)}], an interval containing zero`);
    const dc = welchDifference(coPlanar, g);
    expect(dc.containsZero).toBe(true);
    expect(text).toContain(`co-trained it differs (Δ gap ${f(dc.mean)} nats [${f(dc.lower)}, ${f(dc.upper)}], containing zero)`);
    expect(text).not.toMatch(/realnvp[^.]*co-trained/);
  });

  it('says when an encoder loosens the bound and falls back to the co-trained table alone', () => {
    const g = [5, 5.2, 4.8];
    const h = [8, 8.5, 8.1];
    const co: TableRecord = {
      kind: 'co-trained', method: 'welch', baseline: 'gaussian',
      models: [model('gaussian', g), model('hierarchical', h)],
      differences: { hierarchical: { gap: welchDifference(h, g) } },
    };
    const text = answerParagraph([co]);
    expect(text).toMatch(/co-trained only/);
    expect(text).toMatch(/hierarchical loosens it: Δ gap \+3\.20 nats \[\+\d/);
  });
});
