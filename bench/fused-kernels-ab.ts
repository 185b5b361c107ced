/**
 * Interleaved A/B of a one-thread training step (wasm) with and without groups of vaekit's kernels:
 * CPU ms per step, ABBA blocks in one process, the ratio new/old per round with its median and range.
 *
 *   npx tsx bench/fused-kernels-ab.ts                       # every group below off vs on
 *   OFF=normal,transposes BS=100,1000 R=8 npx tsx bench/fused-kernels-ab.ts
 *
 * Groups (OFF, comma-separated; default all):
 *   bias-tanh-bernoulli  the fused Dense bias + tanh and Bernoulli log-likelihood kernels (unregistered: the op path)
 *   normal               the fused diagonal-Normal sample, log q and KL kernels (unregistered: the op path)
 *   transposes           the product's gradient with explicit Transpose kernels and plain products (the form
 *                        before the product took its transposes as flags)
 * Env: BS batch sizes, R rounds, ENC encoder JSON.
 */
import { createVae, tf } from '../plugins/index.js';
import { selectBackend } from '../src/backend/select-backend.js';
import { Adam } from '../src/nn/adam.js';
import { GEMM_KERNEL, gemm } from '../src/nn/gemm.js';
import { trainingStep } from '../src/train/trainer.js';

await selectBackend('wasm', { quiet: true });
const GROUPS: Record<string, string[]> = {
  'bias-tanh-bernoulli': ['VaekitBiasTanh', 'VaekitBiasTanhGrad', 'VaekitBernoulliLogProb', 'VaekitBernoulliLogProbGrad'],
  normal: ['VaekitNormalSample', 'VaekitNormalSampleGrad', 'VaekitNormalLogQ', 'VaekitNormalLogQGrad', 'VaekitNormalKl', 'VaekitNormalKlGrad'],
  transposes: [],
};
const off = (process.env.OFF ?? Object.keys(GROUPS).join(',')).split(',').map((s) => s.trim());
for (const g of off) if (!(g in GROUPS)) throw new Error(`OFF: unknown group "${g}"; expected some of ${Object.keys(GROUPS).join(', ')}`);
const saved = off.flatMap((g) => GROUPS[g]!).map((n) => tf.getKernel(n, 'wasm')!);

// The product's gradient before its transposes became flags: explicit transposes, plain products.
const flagsGrad = tf.getGradient(GEMM_KERNEL)!;
const transposeGrad: tf.GradConfig = {
  kernelName: GEMM_KERNEL,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, s) => {
    const [a, b] = s as [tf.Tensor2D, tf.Tensor2D];
    const dc = dy as tf.Tensor2D;
    const [m, k] = a.shape;
    const n = b.shape[1];
    return {
      a: () => (k * n <= m * n + k * m ? gemm(dc, tf.transpose(b)) : tf.transpose(gemm(b, tf.transpose(dc)))),
      b: () => (m * k <= m * n + n * k ? gemm(tf.transpose(a), dc) : tf.transpose(gemm(tf.transpose(dc), a))),
    };
  },
};
const setGrad = (g: tf.GradConfig) => {
  tf.unregisterGradient(GEMM_KERNEL);
  tf.registerGradient(g);
};

const setNew = (on: boolean) => {
  for (const k of saved) {
    const has = tf.getKernel(k.kernelName, 'wasm');
    if (on && !has) tf.registerKernel(k);
    if (!on && has) tf.unregisterKernel(k.kernelName, 'wasm');
  }
  if (off.includes('transposes')) setGrad(on ? flagsGrad : transposeGrad);
};
const enc = JSON.parse(process.env.ENC ?? '{"type":"gaussian","hidden":[200,200]}');
console.log(`off in the "old" blocks: ${off.join(', ')}`);
for (const B of (process.env.BS ?? '100,1000').split(',').map(Number)) {
  const vae = createVae({ latentDim: 50, dataDim: 784, encoder: enc, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: [200, 200] }, seed: 1 });
  const variables = vae.variables().map((v) => v.variable);
  const adam = new Adam(variables, { learningRate: 1e-3 });
  const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([B, 784]), 0.5), 'float32')) as tf.Tensor2D;
  const step = () => tf.dispose(trainingStep(vae, x, { variables, adam, objective: { type: 'elbo', samples: 1 } }));
  const n = Math.max(3, Math.round(1500 / B));
  const tensors: number[] = [];
  const block = (on: boolean) => {
    setNew(on);
    step();
    const before = tf.memory().numTensors;
    const c = process.cpuUsage();
    for (let i = 0; i < n; i++) step();
    const d = process.cpuUsage(c);
    tensors.push(tf.memory().numTensors - before);
    return (d.user + d.system) / 1000 / n;
  };
  const olds: number[] = [], news: number[] = [], ratio: number[] = [];
  for (let r = 0; r < Number(process.env.R ?? 8); r++) {
    const a = block(false), b = block(true), b2 = block(true), a2 = block(false);
    olds.push(a, a2);
    news.push(b, b2);
    ratio.push((b + b2) / (a + a2));
  }
  const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
  const s = [...ratio].sort((p, q) => p - q);
  console.log(`${enc.type} batch ${B}: CPU ms/step old ${med(olds).toFixed(2)}, new ${med(news).toFixed(2)}; ratio new/old median ${med(ratio).toFixed(3)} [${s[0]!.toFixed(3)}, ${s[s.length - 1]!.toFixed(3)}] over ${ratio.length} ABBA rounds; live-tensor change per block ${Math.min(...tensors)}…${Math.max(...tensors)}`);
  x.dispose();
  adam.dispose();
  vae.dispose();
}
setNew(true);
