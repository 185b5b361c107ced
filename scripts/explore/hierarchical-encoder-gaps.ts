// The 2-D 'connected' model (x ~ N(z₁z₂, 0.25²)): gap log p(x) − ELBO per encoder under one protocol
// (32 rows, encoder only, 1000 full-batch Adam steps at lr 1e-2, ELBO K = 1, 1000 samples per row
// to measure). Not a test; run with
//   npx tsx scripts/explore/hierarchical-encoder-gaps.ts            (SEED=2 … for other seeds; ONLY=a,b)
import { selectBackend } from '../../plugins/index.js';
import type { PluginSpec } from '../../plugins/index.js';
import { train } from '../../src/train/trainer.js';
import { createQuadratureVae, measureGaps, quadratureDataset } from '../../plugins/index.js';

await selectBackend('wasm', { quiet: true });
const model = { kind: 'connected', sigma: 0.25 } as const;
const data = quadratureDataset(32, model, 3);
const seed = Number(process.env.SEED ?? 1);
const specs: Record<string, PluginSpec> = {
  gaussian: { type: 'gaussian', hidden: [32] },
  'hierarchical (auxInitScale 1)': { type: 'hierarchical', hidden: [32], auxHidden: [32], auxDim: 1 },
  'hierarchical (auxInitScale 5)': { type: 'hierarchical', hidden: [32], auxHidden: [32], auxDim: 1, auxInitScale: 5 },
  'hierarchical + 2 realnvp': { type: 'hierarchical', hidden: [32], auxHidden: [32], auxDim: 1, auxInitScale: 5, flow: [{ type: 'realnvp', count: 2, hidden: [32] }] },
  'planar ×8': { type: 'planar', hidden: [32], steps: 8 },
  'realnvp ×4': { type: 'realnvp', hidden: [32], couplings: 4, coupling: { hidden: [32] } },
};
console.log('| encoder | gap (nats) | ELBO | log p(x) | train s |\n|---|---|---|---|---|');
for (const [name, spec] of Object.entries(specs)) {
  if (process.env.ONLY && !process.env.ONLY.split(',').some((o) => name.startsWith(o))) continue;
  const vae = createQuadratureVae(spec, { ...model, seed });
  const t0 = Date.now();
  await train(vae, data, { epochs: 1000, batchSize: 32, learningRate: 1e-2, objective: { type: 'elbo', samples: 1 }, seed: 1, freeze: ['likelihood', 'prior'], progress: false, quiet: true });
  const s = (Date.now() - t0) / 1000;
  const g = measureGaps(vae, data, { model, samples: 1000 });
  console.log(`| ${name} | ${g.meanGap.toFixed(3)} | ${g.meanElbo.toFixed(3)} | ${g.meanLogPx.toFixed(3)} | ${s.toFixed(0)} |`);
  vae.dispose();
}
