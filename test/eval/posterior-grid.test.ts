import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { Random, createVae, tf } from '../../plugins/index.js';
import { LinearGaussianModel } from '../../src/data/linear-gaussian.js';
import { posteriorGrid } from '../../src/eval/posterior-grid.js';
import { renderPosteriorPlot } from '../../src/plot/posterior-plot.js';
import { linearVae } from '../support/linear-vae.js';
import { createQuadratureVae, quadratureLogPx } from '../../plugins/index.js';

describe('posteriorGrid', () => {
  const truth = LinearGaussianModel.random({ dataDim: 5, latentDim: 2, sigma: 0.5, seed: 21 });
  const data = truth.sample(3, new Random(22));
  const exact = truth.logProb(data.x);

  it('integrates to the exact log p(x) of the linear-Gaussian model (midpoint rule, |error| < 1e-4), and p(z|x) = q on the grid when q is the exact posterior', async () => {
    const vae = linearVae(truth);
    for (let r = 0; r < 3; r++) {
      const g = await posteriorGrid(vae, Array.from(data.x.subarray(r * 5, r * 5 + 5)), { samples: 200, size: 101 });
      expect(Math.abs(g.gridLogPx - exact[r]!)).toBeLessThan(1e-4);
      expect(g.qSource).toBe('exact'); // the gaussian encoder's logProb (its closed form was used before it had one)
      // q = p(z|x): the two densities agree wherever there is mass (float32 network: 1e-3 in log).
      let worst = 0;
      for (let i = 0; i < g.logQ.length; i++) if (g.logPosterior[i]! > -5) worst = Math.max(worst, Math.abs(g.logQ[i]! - g.logPosterior[i]!));
      expect(worst).toBeLessThan(2e-3);
      // Every weight is p(x): ESS = K and log p̂ = ELBO = log p(x).
      expect(g.ess).toBeGreaterThan(199.9);
      expect(Math.abs(g.logPHat - exact[r]!)).toBeLessThan(1e-3);
      expect(Math.abs(g.elbo - exact[r]!)).toBeLessThan(1e-3);
    }
    vae.dispose();
  });

  it('matches the quadrature log p(x) of the two-mode product model and the ring', async () => {
    for (const kind of ['connected', 'ring'] as const) {
      const vae = createQuadratureVae({ type: 'gaussian', hidden: [8] }, { kind });
      const g = await posteriorGrid(vae, [1.5], { samples: 100 });
      expect(Math.abs(g.gridLogPx - quadratureLogPx(1.5, { kind }))).toBeLessThan(1e-4);
      vae.dispose();
    }
  });

  it('shows a slice of a larger latent, uses a density estimate when q has no closed form, and leaks no tensors', async () => {
    // The hierarchical encoder scores z only through its auxiliary u: no logProb, no closed form.
    const vae = createVae({ latentDim: 4, dataDim: 6, encoder: { type: 'hierarchical', hidden: [8], auxHidden: [8] }, likelihood: { type: 'gaussian', hidden: [8] }, seed: 2 });
    const opts = { dims: [1, 3], samples: 100, size: 41, kdeSamples: 500 } as const;
    await posteriorGrid(vae, [0.1, 0.2, -0.3, 0.5, 0, 1], opts); // first call: backend constants
    const before = tf.memory().numTensors;
    const g = await posteriorGrid(vae, [0.1, 0.2, -0.3, 0.5, 0, 1], opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(g.qSource).toBe('kde');
    expect(g.dims).toEqual([1, 3]);
    // Both densities integrate to 1 over the box (the KDE up to the mass outside it).
    const mass = (a: Float64Array) => a.reduce((s, v) => s + Math.exp(v), 0) * g.cellArea;
    expect(mass(g.logPosterior)).toBeCloseTo(1, 8);
    expect(mass(g.logQ)).toBeGreaterThan(0.9);
    expect(mass(g.logQ)).toBeLessThan(1.0001);
    const png = PNG.sync.read(renderPosteriorPlot([{ grid: g, label: 'row 0' }]));
    expect(png.width).toBeGreaterThan(500);
    await expect(posteriorGrid(vae, [0, 0, 0, 0, 0, 1], { dims: [2, 2] })).rejects.toThrow(/dims: expected two different coordinates in 0..3; got \[2, 2\]/);
    await expect(posteriorGrid(vae, [0, NaN, 0, 0, 0, 1])).rejects.toThrow(/row: value 1 is NaN/);
    vae.dispose();
  });

  it('produces the picture for every encoder family (exact density where the encoder has one, else a labelled estimate)', async () => {
    const families = [
      [{ type: 'gaussian', hidden: [8] }, 'exact'],
      [{ type: 'planar', hidden: [8], steps: 2 }, 'kde'],
      [{ type: 'realnvp', hidden: [8], couplings: 2 }, 'kde'],
      [{ type: 'hierarchical', hidden: [8], auxDim: 2, auxHidden: [8], flow: [] }, 'kde'],
      [{ type: 'mixture', hidden: [8], components: 3 }, 'exact'],
    ] as const;
    const rows = [];
    for (const [spec, source] of families) {
      const vae = createQuadratureVae(spec, { kind: 'ring' });
      const g = await posteriorGrid(vae, [1.5], { samples: 100, size: 41, kdeSamples: 400 });
      // A family without logProb may gain one (Encoder.logProb); then its density is exact.
      expect([source, 'exact']).toContain(g.qSource);
      expect(Math.abs(g.gridLogPx - quadratureLogPx(1.5, { kind: 'ring' }))).toBeLessThan(0.02); // 41 points on the auto box
      rows.push({ grid: g, label: spec.type });
      vae.dispose();
    }
    const png = PNG.sync.read(renderPosteriorPlot(rows));
    expect(png.height).toBeGreaterThan(5 * 300);
  });
});

