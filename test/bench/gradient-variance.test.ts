import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVae, Random, tf } from '../../plugins/index.js';
import type { Dataset } from '../../src/index.js';
import { reparameterizedGradient, runGradientVariance, scoreFunctionGradient } from '../../bench/gradient-variance.js';

function binaryData(name: string, rows: number, dim: number, seed: number): Dataset {
  const r = new Random(seed);
  const x = Float32Array.from({ length: rows * dim }, (_, i) => (r.uniform() < 0.2 + 0.6 * ((i % dim) / dim) ? 1 : 0));
  return { name, x, rows, dim, binarize: 'none' };
}

describe('bench/gradient-variance', () => {
  it('both estimators are unbiased: their mean gradients agree within Monte Carlo error', () => {
    const vae = createVae({ latentDim: 1, dataDim: 3, encoder: { type: 'gaussian', hidden: [] }, likelihood: { type: 'bernoulli', hidden: [] }, seed: 4 });
    const x = tf.tensor2d([1, 0, 1, 0, 0, 1], [2, 3]);
    const vars = vae.variables(['encoder']);
    const n = 1500;
    const stats = (fn: typeof reparameterizedGradient) => {
      const sum = new Map<string, Float64Array>();
      const sq = new Map<string, Float64Array>();
      for (let d = 0; d < n; d++) {
        const g = fn(vae, x, 1, vars);
        for (const v of vars) {
          const a = g[v.variable.name]!.dataSync();
          if (!sum.has(v.name)) (sum.set(v.name, new Float64Array(a.length)), sq.set(v.name, new Float64Array(a.length)));
          a.forEach((val, i) => ((sum.get(v.name)![i]! += val), (sq.get(v.name)![i]! += val * val)));
        }
        tf.dispose(g);
      }
      return { sum, sq };
    };
    const r = stats(reparameterizedGradient);
    const s = stats(scoreFunctionGradient);
    let compared = 0;
    let varR = 0;
    let varS = 0;
    for (const v of vars) {
      r.sum.get(v.name)!.forEach((sr, i) => {
        const mr = sr / n;
        const ms = s.sum.get(v.name)![i]! / n;
        const vr = r.sq.get(v.name)![i]! / n - mr * mr;
        const vs = s.sq.get(v.name)![i]! / n - ms * ms;
        varR += vr;
        varS += vs;
        expect(Math.abs(mr - ms)).toBeLessThan(4 * Math.sqrt((vr + vs) / n) + 1e-6);
        compared++;
      });
    }
    expect(compared).toBe(3 + 1 + 3 + 1);
    expect(varS).toBeGreaterThan(varR); // the score function is the noisier of the two
    x.dispose();
    vae.dispose();
  });

  it('runs on a tiny budget, measures a score-function variance far above the reparameterised one, and writes its table', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gradient-variance-'));
    const before = tf.memory().numTensors;
    const r = await runGradientVariance({
      data: { train: binaryData('tiny', 200, 30, 1), batch: binaryData('tiny', 20, 30, 2) },
      epochs: 1,
      batch: 20,
      draws: 20,
      latentDim: 4,
      hidden: [16],
      out,
      progress: false,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.parameters).toBe(30 * 16 + 16 + 2 * (16 * 4 + 4));
    expect(r.compared).toBe(r.parameters); // every pixel is 1 somewhere: every parameter gets a gradient
    expect(r.ratio.median).toBeGreaterThan(10);
    expect(r.ratio.ofTotals).toBeGreaterThan(10);
    expect(r.trainElbo).not.toBeNull();
    const md = readFileSync(join(out, 'gradient-variance.md'), 'utf8');
    expect(md).toContain('Variance ratio Var[score function] / Var[reparameterised]: median');
    expect(md.split('\n').filter((l) => l.startsWith('| encoder/'))).toHaveLength(6);
    expect(existsSync(join(out, 'gradient-variance.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'gradient-variance.json'), 'utf8')).ratio.median).toBeCloseTo(r.ratio.median, 6);
  });
});
