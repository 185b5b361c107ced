/**
 * Interleaved A/B of a training step, ABBA blocks in one process, wall and CPU ms per step:
 *
 * - `AB=threads` (default): vaekit's kernels on one thread (A) vs split over two (B, `setKernelThreads`);
 * - `AB=in-place`: two kernel threads on tfjs-wasm's shared heap, the helpers working on copies
 *   with side-by-side gradient products and Adam on one thread (A, `setInPlaceKernels(false)`:
 *   the code before the heap was shared) vs in place, products and Adam split (B);
 * - `AB=normals`: two kernel threads, `Random`'s normals from its JavaScript loop (A,
 *   `useBoxMullerKernel(false)`) vs from the WebAssembly Box–Muller kernel (B; the same values).
 *
 *   npx tsx bench/kernel-threads-ab.ts      # env AB, BS=batch (100), R=rounds (8), N=steps per block, ENC=encoder JSON
 */
import { createVae, setKernelThreads, tf } from '../plugins/index.js';
import { useBoxMullerKernel } from '../src/backend/box-muller.js';
import { setInPlaceKernels } from '../src/backend/shared-heap.js';
import { selectBackend } from '../src/backend/select-backend.js';
import { Adam } from '../src/nn/adam.js';
import { trainingStep } from '../src/train/trainer.js';
await selectBackend('wasm', { quiet: true });
const bs = Number(process.env.BS ?? 100);
const ab = process.env.AB ?? 'threads';
if (ab !== 'threads' && ab !== 'in-place' && ab !== 'normals') throw new Error(`AB: expected "threads", "in-place" or "normals"; got ${JSON.stringify(ab)}`);
const enc = JSON.parse(process.env.ENC ?? '{"type":"gaussian","hidden":[200,200]}');
const vae = createVae({ latentDim: 50, dataDim: 784, encoder: enc, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: [200, 200] }, seed: 1 });
const variables = vae.variables().map((v) => v.variable);
const adam = new Adam(variables, { learningRate: 1e-4 });
const objective = { type: 'elbo' as const, samples: 1 };
const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([bs, 784], 0, 1, 'float32', 1), 0.5), 'float32')) as tf.Tensor2D;
const step = () => tf.dispose(trainingStep(vae, x, { variables, adam, objective }));
const n = Math.max(2, Math.round(Number(process.env.N ?? 3000 / bs)));
const names = { threads: { a: '1 thread', b: '2 threads' }, 'in-place': { a: '2 threads on copies', b: '2 threads in place' }, normals: { a: 'normals in JavaScript', b: 'normals in WebAssembly' } }[ab];
const times = { a: { wall: [] as number[], cpu: [] as number[] }, b: { wall: [] as number[], cpu: [] as number[] } };
const block = (side: 'a' | 'b') => {
  if (ab === 'threads') setKernelThreads(side === 'a' ? 1 : 2);
  else {
    setKernelThreads(2);
    if (ab === 'in-place') setInPlaceKernels(side === 'b');
    else useBoxMullerKernel(side === 'b');
  }
  step();
  const c = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < n; i++) step();
  const wall = (performance.now() - t) / n;
  const d = process.cpuUsage(c);
  times[side].wall.push(wall);
  times[side].cpu.push((d.user + d.system) / 1000 / n);
  return wall;
};
for (let i = 0; i < 3; i++) {
  block('a');
  block('b');
}
times.a = { wall: [], cpu: [] };
times.b = { wall: [], cpu: [] };
const tensors = tf.memory().numTensors;
const ratios: number[] = [];
for (let r = 0; r < Number(process.env.R ?? 8); r++) {
  const a1 = block('a'), b1 = block('b'), b2 = block('b'), a2 = block('a');
  ratios.push((b1 + b2) / (a1 + a2));
}
const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
const f = (v: number) => v.toFixed(2);
console.log(`batch ${bs} ${enc.type}: ${names.a} ${f(med(times.a.wall))} ms wall (CPU, all threads ${f(med(times.a.cpu))}), ${names.b} ${f(med(times.b.wall))} ms wall (CPU ${f(med(times.b.cpu))}); B/A wall median ${med(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(3)}, ${Math.max(...ratios).toFixed(3)}]; tensors ${tensors} → ${tf.memory().numTensors}`);
