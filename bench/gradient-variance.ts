/**
 * Gradient variance of the ELBO w.r.t. the encoder's parameters φ: the reparameterised estimator
 * against the score-function (REINFORCE) estimator, same model, same samples per draw.
 *
 * With f(z) = log p(x, z) − log q_φ(z|x) and ELBO = E_q[f(z)]:
 *
 *   reparameterised:   ĝ_R = (1/K) Σ_k ∇_φ f(g_φ(ε_k)),            z = g_φ(ε) = μ + σ ⊙ ε
 *   score function:    ĝ_S = (1/K) Σ_k f(z_k) ∇_φ log q_φ(z_k|x),   z_k held fixed
 *
 * (the direct term E_q[∇_φ f] = −E_q[∇_φ log q] = 0 drops out of ĝ_S). Both are unbiased for
 * ∇_φ ELBO; the score-function one is used here without baselines or control variates (Williams
 * 1992; Paisley, Blei & Jordan 2012), the reparameterised one as in Kingma & Welling 2014 (§2.4).
 * Over N independent draws of each, the per-parameter variances are compared as
 * Var[ĝ_S] / Var[ĝ_R] (median and mean over parameters, and the ratio of summed variances).
 *
 *   npx tsx bench/gradient-variance.ts [--draws 100] [--epochs 1] [--untrained]
 *
 * Writes bench/results/gradient-variance.md and .json (or under --out). With `--estimators`, the
 * SNR and variance of the encoder gradient by estimator (reparam, stl, dreg) and K instead
 * (`./gradient-snr.ts`): gradient-snr.md, .json and .png.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { selectBackend, tf } from '../plugins/index.js';
import { estimatorSnrChart, formatEstimatorSnr, runEstimatorSnr, type EstimatorSnrOptions } from './gradient-snr.js';
import type { Dataset, NamedVariable, Vae } from '../src/index.js';
import { createProgress } from '../src/eval/progress.js';
import { renamedOption } from '../src/cli/support.js';
import { Moments, trainedGradientModel } from './gradient-setup.js';
import { median } from '../src/eval/stats.js';

/** ĝ_R: ∇_φ of mean over K samples and B rows of log p(x, z) − log q(z|x), z reparameterised. */
export function reparameterizedGradient(vae: Vae, x: tf.Tensor2D, samples: number, vars: NamedVariable[]): tf.NamedTensorMap {
  const { value, grads } = tf.variableGrads(
    () => tf.tidy(() => tf.mean(vae.logWeights(x, { samples })) as tf.Scalar),
    vars.map((v) => v.variable),
  );
  value.dispose();
  return grads;
}

/**
 * ĝ_S: mean over K samples and B rows of f(z) ∇_φ log q_φ(z|x) with z and f(z) computed outside
 * the gradient (held fixed), log q at the fixed z from `Encoder.logProb(z, λ(x))`, so this
 * estimator needs an encoder that has it.
 */
export function scoreFunctionGradient(vae: Vae, x: tf.Tensor2D, samples: number, vars: NamedVariable[]): tf.NamedTensorMap {
  const encoder = vae.encoder;
  if (!encoder.logProb) {
    throw new Error(`scoreFunctionGradient: the encoder "${encoder.name}" has no logProb(z, λ); the score-function estimator needs log q(z|x) at given z`);
  }
  const t = vae.terms(x, { samples });
  const z = t.z;
  const f = tf.tidy(() => tf.sub(tf.add(t.logPxGivenZ, t.logPz), t.logQ));
  tf.dispose([t.logPxGivenZ, t.logPz, t.logQ, ...(t.posterior ? Object.values(t.posterior.params) : [])]);
  try {
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => tf.mean(tf.mul(f, encoder.logProb!(z, encoder.params(x)))) as tf.Scalar),
      vars.map((v) => v.variable),
    );
    value.dispose();
    return grads;
  } finally {
    tf.dispose([z, f]);
  }
}

/** Running per-element mean and variance of gradient draws (Float64 sums). */
export interface GradientVarianceOptions {
  /** MNIST training rows for the brief training (default 1000). */
  rows?: number;
  /** Training epochs before measuring (default 1; 0 = untrained). */
  epochs?: number;
  /** Rows of the (statically binarised, seeded) MNIST test batch the gradients are taken on (default 100). */
  batch?: number;
  /** K, samples per row in each gradient draw, the same for both estimators (default 1). */
  samples?: number;
  /** N, independent draws of each estimator (default 100). */
  draws?: number;
  latentDim?: number;
  hidden?: number[];
  seed?: number;
  out?: string | null;
  progress?: boolean;
  /** Use this data instead of MNIST (tests): training rows and the gradient batch. */
  data?: { train: Dataset; batch: Dataset };
}

export interface VariableRatio {
  name: string;
  size: number;
  /** Parameters with non-zero reparameterised variance (the ratio is defined). */
  compared: number;
  medianRatio: number;
  meanVarReparam: number;
  meanVarScore: number;
}

export interface GradientVarianceResult {
  settings: { rows: number; epochs: number; batch: number; samples: number; draws: number; latentDim: number; hidden: number[]; seed: number; backend: string; data: string };
  /** Encoder parameters in total, and those with a defined ratio (Var_R > 0). */
  parameters: number;
  compared: number;
  ratio: { median: number; mean: number; ofTotals: number };
  perVariable: VariableRatio[];
  /** Cosine between the two mean gradients over the N draws (both unbiased: → 1 as N grows). */
  meanGradientCosine: number;
  trainElbo: number | null;
  seconds: number;
  markdown: string;
}

export async function runGradientVariance(options: GradientVarianceOptions = {}): Promise<GradientVarianceResult> {
  const s = {
    rows: options.rows ?? 1000,
    epochs: options.epochs ?? 1,
    batch: options.batch ?? 100,
    samples: options.samples ?? 1,
    draws: options.draws ?? 100,
    latentDim: options.latentDim ?? 50,
    hidden: options.hidden ?? [200, 200],
    seed: options.seed ?? 1,
  };
  if (!(s.draws >= 2)) throw new Error(`draws: expected at least 2 (a variance needs two draws); got ${s.draws}`);
  const out = options.out === undefined ? 'bench/results' : options.out;
  const started = Date.now();
  const { vae, x, trainElbo, data } = await trainedGradientModel(s, options.data);
  try {
    vae.random.reseed(s.seed + 1);
    const vars = vae.variables(['encoder']);
    const sizes = vars.map((v) => v.variable.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const rep = new Moments(total);
    const sco = new Moments(total);
    const bar = createProgress('gradient variance', 2 * s.draws, options.progress === undefined ? {} : { enabled: options.progress });
    const collect = async (grads: tf.NamedTensorMap, m: Moments) => {
      for (let i = 0; i < vars.length; i++) {
        const g = grads[vars[i]!.variable.name];
        if (g) m.add((await g.data()) as Float32Array, offsets[i]!);
      }
      tf.dispose(grads);
      m.n++;
    };
    try {
      for (let d = 0; d < s.draws; d++) {
        await collect(reparameterizedGradient(vae, x, s.samples, vars), rep);
        bar.tick();
        await collect(scoreFunctionGradient(vae, x, s.samples, vars), sco);
        bar.tick();
      }
    } finally {
      bar.stop();
    }
    const ratios: number[] = [];
    let sumR = 0;
    let sumS = 0;
    let dot = 0;
    let nr = 0;
    let ns = 0;
    const perVariable: VariableRatio[] = vars.map((v, j) => {
      const local: number[] = [];
      let vr = 0;
      let vs = 0;
      for (let i = offsets[j]!; i < offsets[j]! + sizes[j]!; i++) {
        const a = rep.variance(i);
        const b = sco.variance(i);
        vr += a;
        vs += b;
        const ma = rep.mean(i);
        const mb = sco.mean(i);
        dot += ma * mb;
        nr += ma * ma;
        ns += mb * mb;
        // Parameters no gradient reaches (e.g. weights of pixels that are 0 in every row) have
        // zero variance under both estimators: the ratio is undefined there and they are left out.
        if (a > 1e-30) {
          local.push(b / a);
          ratios.push(b / a);
        }
      }
      sumR += vr;
      sumS += vs;
      return { name: v.name, size: sizes[j]!, compared: local.length, medianRatio: median(local), meanVarReparam: vr / sizes[j]!, meanVarScore: vs / sizes[j]! };
    });
    const result: GradientVarianceResult = {
      settings: { ...s, backend: tf.getBackend(), data },
      parameters: total,
      compared: ratios.length,
      ratio: { median: median(ratios), mean: ratios.reduce((a, b) => a + b, 0) / ratios.length, ofTotals: sumS / sumR },
      perVariable,
      meanGradientCosine: dot / Math.sqrt(nr * ns),
      trainElbo,
      seconds: (Date.now() - started) / 1000,
      markdown: '',
    };
    result.markdown = formatGradientVariance(result);
    if (out !== null) {
      mkdirSync(out, { recursive: true });
      writeAtomic(join(out, 'gradient-variance.md'), `${result.markdown}\n`);
      writeAtomic(join(out, 'gradient-variance.json'), `${JSON.stringify({ ...result, markdown: undefined }, null, 2)}\n`);
    }
    return result;
  } finally {
    x.dispose();
    vae.dispose();
  }
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const g = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-2 ? v.toExponential(2) : v.toFixed(2)) : String(v));

export function formatGradientVariance(r: GradientVarianceResult): string {
  const st = r.settings;
  const model = `${st.data === 'mnist' ? 'MNIST' : st.data}: ${st.epochs > 0 ? `trained for ${st.epochs} epoch${st.epochs === 1 ? '' : 's'} on ${st.rows} rows (train ELBO ${r.trainElbo?.toFixed(1)} nats)` : 'untrained (initial weights)'}`;
  const lines = [
    '## Gradient variance: reparameterised vs score-function (REINFORCE) estimator',
    '',
    `Gaussian encoder ${[`${st.data === 'mnist' ? 784 : 'P'}`, ...st.hidden, st.latentDim].join('-')}, Bernoulli decoder; ${model}. ` +
      `Gradients of the ELBO w.r.t. the ${r.parameters} encoder parameters on one batch of ${st.batch} rows, K = ${st.samples} sample${st.samples === 1 ? '' : 's'} per row per draw for both estimators, ` +
      `${st.draws} independent draws of each; score function without baseline or control variate. Backend ${st.backend}, ${r.seconds.toFixed(1)} s.`,
    '',
    `**Variance ratio Var[score function] / Var[reparameterised]: median ${g(r.ratio.median)}, mean ${g(r.ratio.mean)} over ${r.compared} parameters; ` +
      `ratio of summed variances ${g(r.ratio.ofTotals)}.** (${r.parameters - r.compared} parameters with zero variance under both — no gradient reaches them — are left out.) ` +
      `Cosine between the two mean gradients: ${r.meanGradientCosine.toFixed(3)} (both unbiased; it tends to 1 as the number of draws grows).`,
    '',
    '| variable | parameters | median ratio | mean Var (reparameterised) | mean Var (score function) |',
    '|---|---:|---:|---:|---:|',
    ...r.perVariable.map((v) => `| ${v.name} | ${v.size} | ${g(v.medianRatio)} | ${g(v.meanVarReparam)} | ${g(v.meanVarScore)} |`),
  ];
  return lines.join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const int = (v: string) => Number.parseInt(v, 10);
  const program = new Command()
    .name('gradient-variance')
    .description('Per-parameter variance of reparameterised vs score-function ELBO gradients (encoder), as a ratio')
    .option('--rows <n>', 'MNIST training rows for the brief training', int)
    .option('--epochs <n>', 'training epochs before measuring (default 1)', int)
    .option('--untrained', 'measure at the initial weights (epochs 0)')
    .option('--batch <n>', 'rows of the gradient batch (MNIST test rows)', int)
    .option('--samples <n>', 'K, samples per row per draw (both estimators)', int)
    .option('--draws <n>', 'N, draws of each estimator', int)
    .option('--latent-dim <n>', 'latent dimension', int)
    .option('--hidden <list>', 'encoder hidden sizes (decoder mirrored), e.g. 200,200', (v: string) => v.split(',').map(int))
    .option('--seed <n>', 'seed', int)
    .option('--out <dir>', 'output folder', 'bench/results')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu', 'auto')
    .option('--estimators', 'SNR and variance of the IWAE_K encoder gradient by estimator (reparam, stl, dreg) and K instead')
    .option('--iwae-samples <list>', 'with --estimators: the K values of IWAE_K (default 1,5,10,50)', (v: string) => v.split(',').map(int))
    .addOption(renamedOption('--ks <list>', '--iwae-samples'))
    .parse();
  const a = program.opts();
  await selectBackend(a.backend);
  if (a.estimators) {
    const opts: EstimatorSnrOptions = {};
    for (const k of ['rows', 'epochs', 'batch', 'draws', 'latentDim', 'hidden', 'seed'] as const) if (a[k] !== undefined) (opts as Record<string, unknown>)[k] = a[k];
    if (a.iwaeSamples !== undefined) opts.ks = a.iwaeSamples;
    if (a.untrained) opts.epochs = 0;
    const r = await runEstimatorSnr(opts);
    const md = formatEstimatorSnr(r);
    mkdirSync(a.out, { recursive: true });
    writeAtomic(join(a.out, 'gradient-snr.md'), `${md}\n`);
    writeAtomic(join(a.out, 'gradient-snr.json'), `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(join(a.out, 'gradient-snr.png'), estimatorSnrChart(r));
    process.stdout.write(`${md}\n\nwrote ${join(a.out, 'gradient-snr.md')}, .json and .png\n`);
    process.exit(0);
  }
  const opts: GradientVarianceOptions = { out: a.out };
  for (const k of ['rows', 'epochs', 'batch', 'samples', 'draws', 'latentDim', 'hidden', 'seed'] as const) if (a[k] !== undefined) (opts as Record<string, unknown>)[k] = a[k];
  if (a.untrained) opts.epochs = 0;
  const r = await runGradientVariance(opts);
  process.stdout.write(`${r.markdown}\n\nwrote ${join(a.out, 'gradient-variance.md')} and .json\n`);
}
