/**
 * Interleaved A/B of a training step with vaekit's kernels on one thread vs split over two
 * (`setKernelThreads`): wall and CPU ms per step, ABBA blocks in one process.
 *
 *   npx tsx bench/kernel-threads-ab.ts      # env BS=batch (100), R=rounds (8), N=steps per block, ENC=encoder JSON
 */
import { createVae, setKernelThreads, tf } from '../plugins/index.js';
import { selectBackend } from '../src/backend/select-backend.js';
import { Adam } from '../src/nn/adam.js';
import { trainingStep } from '../src/train/trainer.js';
await selectBackend('wasm', { quiet: true });
const bs = Number(process.env.BS ?? 100);
const enc = JSON.parse(process.env.ENC ?? '{"type":"gaussian","hidden":[200,200]}');
const vae = createVae({ latentDim: 50, dataDim: 784, encoder: enc, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: [200, 200] }, seed: 1 });
const variables = vae.variables().map((v) => v.variable);
const adam = new Adam(variables, { learningRate: 1e-4 });
const objective = { type: 'elbo' as const, samples: 1 };
const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([bs, 784], 0, 1, 'float32', 1), 0.5), 'float32')) as tf.Tensor2D;
const step = () => tf.dispose(trainingStep(vae, x, { variables, adam, objective }));
const n = Math.max(2, Math.round(Number(process.env.N ?? 3000 / bs)));
const times: Record<number, { wall: number[]; cpu: number[] }> = { 1: { wall: [], cpu: [] }, 2: { wall: [], cpu: [] } };
const block = (threads: 1 | 2) => {
  setKernelThreads(threads);
  step();
  const c = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < n; i++) step();
  const wall = (performance.now() - t) / n;
  const d = process.cpuUsage(c);
  times[threads].wall.push(wall);
  times[threads].cpu.push((d.user + d.system) / 1000 / n);
  return wall;
};
for (let i = 0; i < 3; i++) { block(1); block(2); }
for (const t of [1, 2] as const) times[t] = { wall: [], cpu: [] };
const tensors = tf.memory().numTensors;
const ratios: number[] = [];
for (let r = 0; r < Number(process.env.R ?? 8); r++) {
  const a1 = block(1), b1 = block(2), b2 = block(2), a2 = block(1);
  ratios.push((b1 + b2) / (a1 + a2));
}
const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
const f = (v: number) => v.toFixed(2);
console.log(`batch ${bs} ${enc.type}: 1 thread ${f(med(times[1].wall))} ms wall (CPU ${f(med(times[1].cpu))}), 2 threads ${f(med(times[2].wall))} ms wall (CPU, both threads ${f(med(times[2].cpu))}); 2/1 wall median ${med(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(3)}, ${Math.max(...ratios).toFixed(3)}]; tensors ${tensors} → ${tf.memory().numTensors}`);
