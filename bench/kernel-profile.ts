/**
 * Where a training step's kernel time goes, by kernel name (tf.profile on the wasm backend): the
 * Gaussian-encoder / Bernoulli-decoder 784-200-200-50 VAE, one `trainingStep` (ELBO, K = 1, Adam).
 * Prints per kernel: launches, ms per step (median over repeats), share of the summed kernel time,
 * and for products their GFLOP/s by shape.
 *
 *   npx tsx bench/kernel-profile.ts --batch 100,1000 [--repeats 7] [--fix off]
 */
import { Command } from 'commander';
import { createVae, setSpeedFixes, tf } from '../plugins/index.js';
import { selectBackend } from '../src/backend/select-backend.js';
import { Adam } from '../src/nn/adam.js';
import { trainingStep } from '../src/train/guarded-stepper.js';

const o = new Command('kernel-profile')
  .option('--batch <sizes>', 'batch sizes', '100,1000')
  .option('--repeats <n>', 'profiled steps (the median per kernel is reported)', '7')
  .option('--encoder <type>', 'encoder type', 'gaussian')
  .option('--fix <on|off>', 'speed fixes (setSpeedFixes)', 'on')
  .parse(process.argv)
  .opts<{ batch: string; repeats: string; encoder: string; fix: string }>();

await selectBackend('wasm', { quiet: true });
setSpeedFixes(o.fix === 'off' ? false : null);
const isProduct = (name: string) => /MatMul|Gemm/i.test(name);
for (const batch of o.batch.split(',').map(Number)) {
  const vae = createVae({ latentDim: 50, dataDim: 784, encoder: { type: o.encoder, hidden: [200, 200] }, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: [200, 200] }, seed: 1 });
  const variables = vae.variables().map((v) => v.variable);
  const adam = new Adam(variables, { learningRate: 1e-4 });
  const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([batch, 784], 0, 1, 'float32', 1), 0.5), 'float32')) as tf.Tensor2D;
  const step = () => tf.dispose(trainingStep(vae, x, { variables, adam, objective: { type: 'elbo', samples: 1 } }));
  for (let i = 0; i < 5; i++) step();
  const byName = new Map<string, number[][]>();
  const byShape = new Map<string, number[]>();
  const launches: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < Number(o.repeats); r++) {
    const c = process.cpuUsage();
    const info = await tf.profile(step);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
    launches.push(info.kernels.length);
    const sums = new Map<string, [number, number]>();
    for (const k of info.kernels) {
      const ms = k.kernelTimeMs as number;
      const s = sums.get(k.name) ?? [0, 0];
      s[0] += 1;
      s[1] += ms;
      sums.set(k.name, s);
      if (isProduct(k.name)) {
        // M×K×N from the output [M, N] and a (M·K elements, transposed or not).
        const [m, n] = k.outputShapes[0]!.slice(-2) as [number, number];
        const kk = k.inputShapes[0]!.reduce((p, q) => p * q, 1) / (k.outputShapes[0]!.reduce((p, q) => p * q, 1) / n);
        const key = `${k.name} ${m}×${kk}×${n} (a [${k.inputShapes[0]!.join('×')}], b [${k.inputShapes[1]!.join('×')}])`;
        byShape.set(key, [...(byShape.get(key) ?? []), ms]);
      }
    }
    for (const [n, s] of sums) byName.set(n, [...(byName.get(n) ?? []), s]);
  }
  const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
  const rows = [...byName].map(([n, v]) => ({ n, count: v[0]![0]!, ms: med(v.map((s) => s[1]!)) })).sort((p, q) => q.ms - p.ms);
  const total = rows.reduce((a, r) => a + r.ms, 0);
  console.log(`\n${o.encoder}/bernoulli batch ${batch} (fix ${o.fix}): ${med(launches)} launches, kernel time ${total.toFixed(2)} ms of ${med(cpu).toFixed(2)} CPU ms per profiled step`);
  for (const r of rows) console.log(`  ${r.n.padEnd(30)} ${String(r.count).padStart(4)}× ${r.ms.toFixed(3).padStart(8)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)} %`);
  console.log('  products by shape (median ms per call, GFLOP/s):');
  for (const [key, v] of [...byShape].sort()) {
    const m = key.match(/ (\d+)×(\d+)×(\d+) /)!;
    const [mm, kk, nn] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const t = med(v);
    console.log(`    ${key.padEnd(64)} ${t.toFixed(3).padStart(7)} ms ${((2 * mm * kk * nn) / (t * 1e6)).toFixed(1).padStart(6)} GFLOP/s`);
  }
  x.dispose();
  adam.dispose();
  vae.dispose();
}
