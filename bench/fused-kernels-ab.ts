/**
 * Interleaved A/B of a one-thread training step with and without the fused bias + tanh and Bernoulli
 * kernels (unregistered for the "today" blocks): CPU ms per step, ABBA blocks in one process.
 * `npx tsx bench/fused-kernels-ab.ts` (env BS=100,1000, R=rounds, ENC=encoder JSON).
 */
import { createVae, tf } from '../plugins/index.js';
import { selectBackend } from '../src/backend/select-backend.js';
import { Adam } from '../src/nn/adam.js';
import { trainingStep } from '../src/train/trainer.js';
await selectBackend('wasm', { quiet: true });
const names = ['VaekitBiasTanh', 'VaekitBiasTanhGrad', 'VaekitBernoulliLogProb', 'VaekitBernoulliLogProbGrad'];
const saved = names.map((n) => tf.getKernel(n, 'wasm')!);
const setNew = (on: boolean) => { for (const k of saved) { const has = tf.getKernel(k.kernelName, 'wasm'); if (on && !has) tf.registerKernel(k); if (!on && has) tf.unregisterKernel(k.kernelName, 'wasm'); } };
const enc = JSON.parse(process.env.ENC ?? '{"type":"gaussian","hidden":[200,200]}');
for (const B of (process.env.BS ?? '100,1000').split(',').map(Number)) {
  const vae = createVae({ latentDim: 50, dataDim: 784, encoder: enc, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: [200, 200] }, seed: 1 });
  const variables = vae.variables().map((v) => v.variable);
  const adam = new Adam(variables, { learningRate: 1e-3 });
  const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([B, 784]), 0.5), 'float32')) as tf.Tensor2D;
  const step = () => tf.dispose(trainingStep(vae, x, { variables, adam, objective: { type: 'elbo', samples: 1 } }));
  const n = Math.max(3, Math.round(1500 / B));
  const block = (on: boolean) => { setNew(on); step(); const c = process.cpuUsage(); for (let i = 0; i < n; i++) step(); const d = process.cpuUsage(c); return (d.user + d.system) / 1000 / n; };
  const off: number[] = [], on: number[] = [], ratio: number[] = [];
  for (let r = 0; r < Number(process.env.R ?? 8); r++) { const a = block(false), b = block(true), b2 = block(true), a2 = block(false); off.push(a, a2); on.push(b, b2); ratio.push((b + b2) / (a + a2)); }
  const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
  const s = [...ratio].sort((p, q) => p - q);
  console.log(`${enc.type} batch ${B}: CPU ms/step today ${med(off).toFixed(2)}, fused ${med(on).toFixed(2)}; ratio fused/today median ${med(ratio).toFixed(3)} [${s[0]!.toFixed(3)}, ${s[s.length - 1]!.toFixed(3)}] over ${ratio.length} ABBA rounds`);
  x.dispose(); adam.dispose(); vae.dispose();
}
setNew(true);
