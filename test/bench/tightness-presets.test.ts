import { describe, expect, it } from 'vitest';
import { Random, createVae, tf, type Vae } from '../../plugins/index.js';
import type { Dataset } from '../../src/data/dataset.js';
import { train } from '../../src/train/trainer.js';
import { EVAL_SECONDS_PER_ROW_SAMPLE, MODES, PAPER_SCHEDULE, REFERENCES, STEP_SECONDS, estimateWallSeconds } from '../../bench/tightness.js';
import { trainScheduled } from '../../bench/tightness/schedule.js';
import type { Settings } from '../../bench/tightness/types.js';

function rowsOf(rows: number, dim: number, seed: number): Dataset {
  const random = new Random(seed);
  const x = new Float32Array(rows * dim).map(() => (random.uniform() < 0.3 ? 1 : 0));
  return { name: 'random', x, rows, dim, binarize: 'none' };
}
const smallVae = (): Vae =>
  createVae({ latentDim: 3, dataDim: 12, encoder: { type: 'gaussian', hidden: [8] }, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: [8] }, seed: 3 });
const weights = (vae: Vae) => Object.fromEntries(Object.entries(vae.getWeights()).map(([n, v]) => [n, Array.from(v.dataSync())]));
const opts = { batchSize: 10, seed: 5, quiet: true, progress: false } as const;

describe('tightness presets', () => {
  it("--paper follows Burda et al. 2015's schedule: 3^i epochs at 1e-3·10^(−i/7), 3280 epochs in all", () => {
    expect(PAPER_SCHEDULE.map((p) => p.epochs)).toEqual([1, 3, 9, 27, 81, 243, 729, 2187]);
    expect(MODES.paper.epochs).toBe(3280);
    expect(PAPER_SCHEDULE[0]!.learningRate).toBe(1e-3);
    expect(PAPER_SCHEDULE[7]!.learningRate).toBeCloseTo(1e-4, 15);
    for (let i = 1; i < 8; i++) expect(PAPER_SCHEDULE[i]!.learningRate / PAPER_SCHEDULE[i - 1]!.learningRate).toBeCloseTo(10 ** (-1 / 7), 12);
    for (const m of [MODES.standard, MODES.paper]) {
      expect([m.trainRows, m.testRows, m.k, m.llSamples, m.testBinarizeSeed]).toEqual([60000, 10000, 5000, 5000, 0]);
    }
    expect(REFERENCES.join()).toMatch(/Table 1.*86\.76/);
  });

  it('a schedule of equal rates chained over resumed train() calls equals one run bit for bit; a lower second rate changes only the later steps', async () => {
    const data = rowsOf(40, 12, 1);
    const before = tf.memory().numTensors;
    const a = smallVae();
    const h = await train(a, data, { ...opts, epochs: 3, learningRate: 1e-2 });
    const b = smallVae();
    const hs = await trainScheduled(b, data, opts, [{ epochs: 1, learningRate: 1e-2 }, { epochs: 2, learningRate: 1e-2 }]);
    expect(weights(b)).toEqual(weights(a));
    expect(hs.epochs.map((e) => e.trainBound)).toEqual(h.epochs.map((e) => e.trainBound));
    expect(hs.steps).toBe(12);
    const c = smallVae();
    const hc = await trainScheduled(c, data, opts, [{ epochs: 1, learningRate: 1e-2 }, { epochs: 2, learningRate: 1e-3 }]);
    expect(hc.epochs[0]!.trainBound).toBe(h.epochs[0]!.trainBound);
    expect(hc.epochs[2]!.trainBound).not.toBe(h.epochs[2]!.trainBound);
    const perVae = tf.memory().numTensors - before;
    for (const v of [a, b, c]) v.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(perVae).toBeGreaterThan(0);
  });

  it('estimates wall time as jobs × (steps × step cost + row-samples × sample cost) / workers', () => {
    const s = { trainRows: 3000, batchSize: 100, epochs: 3, testRows: 200, llSamples: 500, iwaeSamples: [1, 10, 100], elboSamples: 10, amortRows: 50, amortSteps: 30, amortSamples: 5 } as Settings;
    const perJob = 90 * STEP_SECONDS + (200 * 621 + 50 * 30 * 5 * 3) * EVAL_SECONDS_PER_ROW_SAMPLE;
    expect(estimateWallSeconds(s, 4, 3, true, 2)).toBeCloseTo((24 * perJob) / 2, 9);
    expect(estimateWallSeconds(s, 4, 3, false, 1)).toBeCloseTo(12 * perJob, 9);
  });
});
