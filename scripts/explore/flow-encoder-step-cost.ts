/**
 * Cost of one training step of each encoder at MNIST sizes, relative to the diagonal Gaussian:
 * 784-200-200-50 encoder and 50-200-200-784 Bernoulli decoder, batch 100, ELBO with K = 1,
 * Adam, wasm backend. Not a test (timings are noisy); run:
 *
 *   npx tsx scripts/explore/flow-encoder-step-cost.ts [steps=70] [filter regexp on the encoder names]
 *
 * e.g. `... flow-encoder-step-cost.ts 140 'gaussian|planar'`. "planar, 10 single steps" lists ten
 * `{ "type": "planar" }` entries, so each is built and run as its own step (the unstacked path).
 */
import { Random, createVae, tf } from '../../plugins/index.js';
import { selectBackend } from '../../src/backend/select-backend.js';
import { trainingLoss } from '../../src/train/trainer.js';

await selectBackend(process.env.VAEKIT_BACKEND || 'wasm', { quiet: true });
const steps = Number(process.argv[2] ?? 70);
const filter = new RegExp(process.argv[3] ?? '.');
const allEncoders: Record<string, Record<string, unknown>> = {
  'gaussian': { type: 'gaussian' },
  'planar, 10 steps': { type: 'planar', steps: 10 },
  'planar, 10 steps, global': { type: 'planar', steps: 10, amortized: false },
  'planar, 10 single steps': { type: 'flow', steps: Array.from({ length: 10 }, () => ({ type: 'planar' })) },
  'realnvp, 4 couplings [64]': { type: 'realnvp', couplings: 4 },
  'realnvp, 4 couplings [200]': { type: 'realnvp', couplings: 4, coupling: { hidden: [200] } },
};
// gaussian is always measured: it is the baseline of the ratio.
const encoders = Object.fromEntries(Object.entries(allEncoders).filter(([name]) => name === 'gaussian' || filter.test(name)));
const x = tf.tidy(() => tf.cast(tf.greater(new Random(1).normal([100, 784]), 0.5), 'float32')) as tf.Tensor2D;
const built = Object.entries(encoders).map(([name, encoder]) => {
  const vae = createVae({ latentDim: 50, dataDim: 784, encoder: encoder as never, likelihood: { type: 'bernoulli', hidden: [200, 200] } }, { seed: 1 });
  const vars = vae.variables().map((v) => v.variable);
  const opt = tf.train.adam(1e-3);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => trainingLoss(vae, x, { type: 'elbo', samples: 1 }, 1), vars);
    value.dataSync();
    opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose([value]);
    tf.dispose(grads);
  };
  for (let i = 0; i < 3; i++) step();
  return { name, vae, opt, step, rounds: [] as number[] };
});
// Interleaved rounds (every encoder once per round), the median round per encoder: robust to drift
// and to other processes on a shared machine.
const rounds = 7;
for (let r = 0; r < rounds; r++) {
  for (const b of built) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < Math.ceil(steps / rounds); i++) b.step();
    const c = process.cpuUsage(t0);
    b.rounds.push((c.user + c.system) / 1000 / Math.ceil(steps / rounds));
  }
}
const median = (a: number[]) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const results = built.map((b) => ({ name: b.name, ms: median(b.rounds), min: Math.min(...b.rounds), max: Math.max(...b.rounds) }));
for (const b of built) {
  b.opt.dispose();
  b.vae.dispose();
}
const base = results[0]!.ms;
console.log(`backend ${tf.getBackend()}, ${rounds} interleaved rounds of ${Math.ceil(steps / rounds)} steps, median CPU ms per training step`);
console.log('| encoder | ms/step (median) | range over rounds | × gaussian |\n|---|---|---|---|');
for (const r of results) console.log(`| ${r.name} | ${r.ms.toFixed(1)} | ${r.min.toFixed(1)}–${r.max.toFixed(1)} | ${(r.ms / base).toFixed(2)} |`);
x.dispose();
