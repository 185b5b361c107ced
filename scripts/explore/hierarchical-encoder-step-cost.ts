// Cost per training step at MNIST sizes (784-200-200 nets, batch 100, ELBO K = 1) of the
// hierarchical forms relative to the diagonal Gaussian. Not a test (timings are noisy): run with
//   npx tsx scripts/explore/hierarchical-encoder-step-cost.ts   (REPS=8 for more repeats; reports the median and the minimum, the least disturbed by other load)
import { createVae, loadMnist, selectBackend } from '../../plugins/index.js';
import type { VaeConfigInput } from '../../plugins/index.js';
import { train } from '../../src/train/trainer.js';
await selectBackend(process.env.VAEKIT_BACKEND ?? 'wasm', { quiet: true });
const data = loadMnist({ split: 'train', limit: 1000, binarize: 'dynamic' });
const lik = { type: 'bernoulli', hidden: [200, 200], activation: 'tanh' };
const models: Record<string, VaeConfigInput['model']> = {
  gaussian: { latentDim: 50, encoder: { type: 'gaussian', hidden: [200, 200] }, likelihood: lik },
  hierarchical: { latentDim: 50, encoder: { type: 'hierarchical', hidden: [200, 200] }, likelihood: lik },
  'hierarchical+planar4': { latentDim: 50, encoder: { type: 'hierarchical', hidden: [200, 200], flow: [{ type: 'planar', count: 4 }] }, likelihood: lik },
  'two-level': { latentDim: 150, encoder: { type: 'two-level' }, prior: { type: 'two-level' }, likelihood: lik },
};
const vaes = Object.fromEntries(Object.entries(models).map(([k, m]) => [k, createVae({ model: m })]));
const times: Record<string, number[]> = Object.fromEntries(Object.keys(models).map((k) => [k, []]));
for (const [k, v] of Object.entries(vaes)) await train(v, data, { epochs: 1, batchSize: 100, progress: false, quiet: true });
for (let rep = 0; rep < Number(process.env.REPS ?? 5); rep++) {
  for (const [k, v] of Object.entries(vaes)) {
    const h = await train(v, data, { epochs: 1, batchSize: 100, progress: false, quiet: true });
    times[k]!.push((1000 * h.seconds) / h.steps);
  }
}
const med = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const min = (a: number[]) => Math.min(...a);
const base = med(times.gaussian!);
const baseMin = min(times.gaussian!);
for (const [k, v] of Object.entries(vaes)) {
  console.log(`${k.padEnd(22)} params ${String(v.parameterCount()).padStart(8)}  ms/step ${med(times[k]!).toFixed(1).padStart(6)}  ×${(med(times[k]!) / base).toFixed(2)}  min ${min(times[k]!).toFixed(1)} ×${(min(times[k]!) / baseMin).toFixed(2)}  (runs ${times[k]!.map((t) => t.toFixed(0)).join(', ')})`);
}
