import { describe, expect, it } from 'vitest';
import { createQuadratureVae, quadratureDataset, quadratureLogPx, QUADRATURE_KINDS, tf } from '../../plugins/index.js';
import { COMBOS, formatTable, runBench } from '../../bench/multimodal.js';

describe('the quadrature models the multimodal bench runs', () => {
  it('agree with a finer, wider grid', () => {
    for (const kind of QUADRATURE_KINDS) {
      const x = kind === 'banana' ? 0.2 : 2.5;
      expect(Math.abs(quadratureLogPx(x, { kind, sigma: 0.25 }) - quadratureLogPx(x, { kind, sigma: 0.25 }, { grid: 1201, extent: 8 }))).toBeLessThan(1e-6);
    }
  });
  it('the likelihood tensor matches the formula the quadrature integrates', () => {
    const model = { kind: 'banana' as const, sigma: 0.25 };
    const vae = createQuadratureVae({ type: 'gaussian', hidden: [4] }, model);
    const lp = tf.tidy(() => vae.likelihood.logProb(tf.tensor2d([[0.7]]), tf.tensor3d([[[0.5, -1]]])).dataSync()[0]!);
    const r = (0.7 - (-1 + 0.25)) / 0.25;
    expect(lp).toBeCloseTo(-0.5 * r * r - Math.log(0.25) - 0.5 * Math.log(2 * Math.PI), 4);
    const d = quadratureDataset(10, model, 3, (x) => x > 0);
    expect(d.rows).toBe(10);
    expect(Math.min(...d.x)).toBeGreaterThan(0);
    vae.dispose();
  });
});

describe('bench/multimodal.ts', () => {
  it('runs a tiny configuration end to end: a table row per combo, gaps ≥ 0 up to Monte Carlo error, a picture', async () => {
    const logs: string[] = [];
    const { cells, markdown, png } = await runBench({
      models: ['two-modes'],
      combos: [COMBOS[0]!, COMBOS[6]!],
      seeds: 2,
      steps: 10,
      rows: 4,
      learningRate: 5e-3,
      evalSamples: 200,
      out: null,
      log: (s) => logs.push(s),
    });
    expect(cells).toHaveLength(2);
    for (const c of cells) {
      expect(c.n).toBe(2);
      // The exact gap KL(q ‖ p(z|x)) ≥ 0; its 200-draw estimate may dip below by Monte Carlo error only.
      expect(c.gap.mean).toBeGreaterThan(-0.05);
      expect(Number.isFinite(c.gap.half)).toBe(true);
    }
    expect(markdown).toMatch(/\| two-modes \| gaussian · ELBO \| \d+\.\d\d ± \d+\.\d\d \|/);
    expect(markdown).toContain('| two-modes | mixture C=2 · SIELBO_4 |');
    expect(png!.length).toBeGreaterThan(1000);
    expect(logs).toHaveLength(4);
    expect(formatTable([{ model: 'ring', combo: 'x', n: 0, gap: { mean: NaN, half: NaN, values: [] }, logPHatError: { mean: NaN, half: NaN }, essMedian: NaN, paretoKMedian: NaN, trainSeconds: NaN, error: 'bad | thing' }], { seeds: 1, steps: 1, rows: 1, evalSamples: 1, learningRate: 1 })).toContain('n/a: bad / thing');
  });
});
