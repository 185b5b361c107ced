import { describe, expect, it } from 'vitest';
import { train } from '../../../src/train/trainer.js';
import { createQuadratureVae, measureGaps, quadratureDataset } from '../../../plugins/index.js';
import type { PluginSpec } from '../../../plugins/index.js';

const model = { kind: 'connected', sigma: 0.25 } as const;

/** Trains only the encoder (1000 full-batch Adam steps on 32 rows) and returns the gaps log p(x) − ELBO. */
async function gapOf(encoder: PluginSpec, seed = 1) {
  const data = quadratureDataset(32, model, 3);
  const vae = createQuadratureVae(encoder, { ...model, seed });
  try {
    await train(vae, data, {
      epochs: 1000,
      batchSize: 64,
      learningRate: 1e-2,
      objective: { type: 'elbo', samples: 1 },
      seed: 1,
      freeze: ['likelihood', 'prior'],
      progress: false,
      quiet: true,
    });
    return measureGaps(vae, data, { model, samples: 1000 });
  } finally {
    vae.dispose();
  }
}

describe('hierarchical encoder on the 2-D product model (x ~ N(z₁z₂, 0.25²), two curved posterior modes)', () => {
  it('has a smaller gap log p(x) − ELBO than the diagonal Gaussian, and every ELBO stays below log p(x)', async () => {
    const gaussian = await gapOf({ type: 'gaussian', hidden: [32] });
    const hierarchical = await gapOf({ type: 'hierarchical', hidden: [32], auxHidden: [32], auxDim: 1, auxInitScale: 5 });
    // Measured (32 rows, 1000 samples per row), Gaussian / hierarchical gap in nats: seed 1
    // 1.175 / 0.916, seed 2 1.047 / 0.845, seed 3 1.021 / 0.802 (margins 0.26, 0.20, 0.22; on 64
    // rows with 2000 samples, seed 1: 1.003 / 0.770). Margin asserted: 0.1 nats.
    expect(hierarchical.meanGap).toBeLessThan(gaussian.meanGap - 0.1);
    for (const g of [gaussian, hierarchical]) {
      expect(g.meanGap).toBeGreaterThan(0);
      for (let b = 0; b < g.elbo.length; b++) expect(g.elbo[b]!).toBeLessThan(g.logPx[b]! + 3 * g.elboSe[b]!);
    }
  });
});
