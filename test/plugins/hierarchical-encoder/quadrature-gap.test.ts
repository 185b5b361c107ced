import { describe, expect, it } from 'vitest';
import { train } from '../../../src/train/trainer.js';
import { createQuadratureVae, measureGaps, quadratureDataset } from '../../support/quadrature-model.js';
import type { PluginSpec } from '../../../plugins/index.js';

const model = { kind: 'product', sigma: 0.25 } as const;

/** Trains only the encoder (1000 full-batch Adam steps) and returns the mean gap log p(x) − ELBO. */
async function gapOf(encoder: PluginSpec) {
  const data = quadratureDataset(64, model, 3);
  const vae = createQuadratureVae(encoder, { ...model, seed: 1 });
  try {
    await train(vae, data, {
      epochs: 1000,
      batchSize: 64,
      learningRate: 1e-2,
      objective: { type: 'elbo', samples: 1 },
      seed: 1,
      freeze: ['decoder', 'prior'],
      progress: false,
      quiet: true,
    });
    return measureGaps(vae, data, { model, samples: 2000 });
  } finally {
    vae.dispose();
  }
}

describe('hierarchical encoder on the 2-D product model (x ~ N(z₁z₂, 0.25²), two curved posterior modes)', () => {
  it('has a smaller gap log p(x) − ELBO than the diagonal Gaussian, and every ELBO stays below log p(x)', async () => {
    const gaussian = await gapOf({ type: 'gaussian', hidden: [32] });
    const hierarchical = await gapOf({ type: 'hierarchical', hidden: [32], auxHidden: [32], auxDim: 1, auxInitScale: 5 });
    // Measured (64 rows, seed 1, 2000 samples per row): Gaussian gap 1.003 nats, hierarchical 0.770
    // (seeds 2, 3 of the hierarchical encoder: 0.779, 0.777). Margin asserted: 0.1 nats.
    expect(hierarchical.meanGap).toBeLessThan(gaussian.meanGap - 0.1);
    for (const g of [gaussian, hierarchical]) {
      expect(g.meanGap).toBeGreaterThan(0);
      for (let b = 0; b < g.elbo.length; b++) expect(g.elbo[b]!).toBeLessThan(g.logPx[b]! + 3 * g.elboSe[b]!);
    }
  });
});
