/**
 * GFLOP/s of vaekit's product kernel (`src/nn/gemm.ts`) per shape of a 784-200-200-50 VAE training
 * step — forward products and the transposed products of the backward pass — against tfjs-wasm's
 * `tf.matMul` with the same transposes, in interleaved blocks (CPU time of this one thread; medians).
 * tfjs's matMul is timed with one right operand reused, so XNNPACK's cached packing favours it
 * (in training every right operand is new each step).
 *
 *   npx tsx bench/gemm-shapes.ts [--batch 100,1000] [--rounds 6]
 */
import { Command } from 'commander';
import { setKernelThreads, tf } from '../plugins/index.js';
import { selectBackend } from '../src/backend/select-backend.js';
import { gemm } from '../src/nn/gemm.js';
import { gemmStepShapes } from './gemm-step-shapes.js';

const o = new Command('gemm-shapes')
  .option('--batch <sizes>', 'batch sizes', '100,1000')
  .option('--rounds <n>', 'interleaved rounds (ABBA)', '6')
  .parse(process.argv)
  .opts<{ batch: string; rounds: string }>();

await selectBackend('wasm', { quiet: true });
// One thread: products not split over kernel threads, so the GFLOP/s are one core's.
setKernelThreads(1);
const shapes = gemmStepShapes;
const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
const time = (f: () => void, n: number) => {
  const c = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000 / n;
};
console.log('| M×K×N | op | vaekit GFLOP/s | tfjs-wasm GFLOP/s | vaekit ÷ tfjs time |');
console.log('|---|---|---:|---:|---:|');
for (const b of o.batch.split(',').map(Number)) {
  for (const [m, k, n, ta, tb] of shapes(b)) {
    const a = tf.randomUniform(ta ? [k, m] : [m, k], -1, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomUniform(tb ? [n, k] : [k, n], -1, 1, 'float32', 2) as tf.Tensor2D;
    const ours = () => tf.dispose(gemm(a, w, ta, tb));
    const theirs = () => tf.dispose(tf.matMul(a, w, ta, tb));
    const reps = Math.max(2, Math.round(3e7 / (m * k * n)));
    ours();
    theirs();
    const us: number[] = [];
    const them: number[] = [];
    for (let r = 0; r < Number(o.rounds); r++) {
      us.push(time(ours, reps));
      them.push(time(theirs, reps));
      them.push(time(theirs, reps));
      us.push(time(ours, reps));
    }
    const flops = 2 * m * k * n;
    const op = `${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`;
    console.log(`| ${m}×${k}×${n} | ${op} | ${(flops / (med(us) * 1e6)).toFixed(1)} | ${(flops / (med(them) * 1e6)).toFixed(1)} | ${(med(us) / med(them)).toFixed(2)} |`);
    tf.dispose([a, w]);
  }
}
