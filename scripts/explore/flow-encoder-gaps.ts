/**
 * Reproduces the 2-D gap table (see flow-encoder-tightness.test.ts) with a chosen budget. Not a test:
 *
 *   EPOCHS=400 npx tsx scripts/explore/flow-encoder-gaps.ts      (the test's settings)
 *   EPOCHS=1000 npx tsx scripts/explore/flow-encoder-gaps.ts     (longer training)
 *
 * Env: KIND (connected|ring|two-modes|banana), SIGMA, N rows, BS batch, LR, K samples, ONLY=gaussian,planar8,realnvp4.
 * Prints the mean gap log p(x) − ELBO (ELBO from 1000 samples per row) per encoder.
 */
import { selectBackend } from '../../src/backend/select-backend.js';
import { train } from '../../src/train/trainer.js';
import { createQuadratureVae, measureGaps, quadratureDataset, type QuadratureKind } from '../../plugins/index.js';

await selectBackend('wasm', { quiet: true });
const kind = (process.env.KIND ?? 'connected') as QuadratureKind;
const sigma = Number(process.env.SIGMA ?? 0.25);
const epochs = Number(process.env.EPOCHS ?? 400);
const model = { kind, sigma };
const data = quadratureDataset(Number(process.env.N ?? 64), model, 3);
const specs: Record<string, object> = {
  gaussian: { type: 'gaussian', hidden: [32] },
  planar8: { type: 'planar', hidden: [32], steps: 8 },
  realnvp4: { type: 'realnvp', hidden: [32], couplings: 4, coupling: { hidden: [32] } },
};
for (const [name, spec] of Object.entries(specs)) {
  if (process.env.ONLY && !process.env.ONLY.split(',').includes(name)) continue;
  const vae = createQuadratureVae(spec as never, { ...model, seed: 1 });
  const t0 = Date.now();
  const h = await train(vae, data, {
    epochs, batchSize: Number(process.env.BS ?? 64), learningRate: Number(process.env.LR ?? 1e-2),
    objective: { type: 'elbo', samples: Number(process.env.K ?? 16) }, seed: 1, freeze: ['likelihood', 'prior'], progress: false, quiet: true,
  });
  const t1 = Date.now();
  const g = measureGaps(vae, data, { samples: 1000, model });
  const maxOver = Math.max(...Array.from(g.elbo).map((e, i) => e - g.logPx[i]!));
  const maxSe = Math.max(...g.elboSe);
  console.log(`${name}: gap ${g.meanGap.toFixed(4)} logpx ${g.meanLogPx.toFixed(4)} elbo ${g.meanElbo.toFixed(4)} maxOver ${maxOver.toFixed(4)} maxSe ${maxSe.toFixed(4)} steps ${h.steps} train ${(t1 - t0) / 1000}s eval ${(Date.now() - t1) / 1000}s`);
  vae.dispose();
}
