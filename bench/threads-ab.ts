/**
 * Interleaved A/B of a training step on one thread vs two (ParallelGradients): wall and CPU ms per
 * step, ABBA blocks in one process. `npx tsx bench/threads-ab.ts` (env BS=batch, R=rounds, N=steps
 * per block, ENC=encoder JSON). Prints the main thread's phases per two-thread step.
 */
import { createVae, tf } from '../plugins/index.js';
import { selectBackend } from '../src/backend/select-backend.js';
import { Adam } from '../src/nn/adam.js';
import { trainingStep } from '../src/train/trainer.js';
import { ParallelGradients } from '../src/train/parallel/parallel-gradients.js';
await selectBackend('wasm', { quiet: true });
const bs = Number(process.env.BS ?? 100);
const enc = JSON.parse(process.env.ENC ?? '{"type":"gaussian","hidden":[200,200]}');
const vae = createVae({ latentDim: 50, dataDim: 784, encoder: enc, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: [200, 200] }, seed: 1 });
const trained = vae.variables();
const variables = trained.map((v) => v.variable);
const adam = new Adam(variables, { learningRate: 1e-3 });
const objective = { type: 'elbo' as const, samples: 1 };
const t0 = performance.now();
const par = await ParallelGradients.start(vae, trained, { threads: 2, batchSize: bs, objective: vae.objective({ type: 'elbo' }), spec: { type: 'elbo' }, freeBits: 0 });
if (!(par instanceof ParallelGradients)) throw new Error(par.reason);
console.log('start ms', (performance.now() - t0).toFixed(0));
const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([bs, 784]), 0.5), 'float32')) as tf.Tensor2D;
const one = () => tf.dispose(trainingStep(vae, x, { variables, adam, objective }));
const two = () => { const { value, grads } = par.gradients(x, 1); adam.step(grads); tf.dispose([value, ...grads]); };
const n = Math.max(2, Math.round(Number(process.env.N ?? 2000 / bs)));
for (let i = 0; i < 3; i++) { one(); two(); }
const cpu: Record<string, number[]> = { one: [], two: [] };
const block = (f: () => void) => { const c = process.cpuUsage(); const t = performance.now(); for (let i = 0; i < n; i++) f(); const d = process.cpuUsage(c); cpu[f === one ? 'one' : 'two']!.push((d.user + d.system) / 1000 / n); return (performance.now() - t) / n; };
const ratios: number[] = []; const as: number[] = []; const bsz: number[] = [];
const rounds = Number(process.env.R ?? 8);
for (let r = 0; r < rounds; r++) {
  const a1 = block(one), b1 = block(two), b2 = block(two), a2 = block(one);
  as.push(a1, a2); bsz.push(b1, b2); ratios.push((b1 + b2) / (a1 + a2));
}
const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
console.log(`batch ${bs} ${enc.type}: one ${med(as).toFixed(2)} ms (min ${Math.min(...as).toFixed(2)}), two ${med(bsz).toFixed(2)} ms (min ${Math.min(...bsz).toFixed(2)}), two/one median ${med(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(3)}, ${Math.max(...ratios).toFixed(3)}] tensors ${tf.memory().numTensors}`);
console.log(`cpu ms/step: one ${med(cpu.one!).toFixed(2)} (min ${Math.min(...cpu.one!).toFixed(2)}), two (both threads) ${med(cpu.two!).toFixed(2)} (min ${Math.min(...cpu.two!).toFixed(2)})`);
const st = (par as unknown as { stats?: Record<string, number> }).stats; if (st) console.log('main-thread phases per parallel step (ms):', Object.fromEntries(Object.entries(st).map(([k, v]) => [k, (v / st.steps!).toFixed(3)])));
await par.dispose();
