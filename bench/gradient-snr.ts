/**
 * Signal-to-noise ratio and variance of the encoder gradient by estimator and K (Rainforth et
 * al., Tighter Variational Bounds are Not Necessarily Better, arXiv:1802.04537, figure 1; Tucker
 * et al., arXiv:1810.04152, figure 2): for each estimator of the IWAE_K encoder gradient
 * (`reparam`, `stl` = IWAE-STL, `dreg`) and each K, N independent draws of the gradient of the
 * objective's encoder surrogate on one fixed batch, after a short training of the model with the
 * ELBO. Per encoder parameter φ_i:
 *
 *   SNR_i = |mean_N ĝ_i| / std_N ĝ_i,        Var_i = var_N ĝ_i,
 *
 * summarised over the parameters a gradient reaches (Var_i > 0) by the median and the mean SNR
 * and by the summed variance Σ_i Var_i. With K = 1 IWAE is the ELBO (Monte Carlo KL) and `dreg`
 * equals `stl`. Expected: the reparameterised SNR falls with K (as 1/√K), DReG's does not.
 *
 *   npx tsx bench/gradient-variance.ts --estimators [--iwae-samples 1,5,10,50] [--draws 200] [--batch 1] [--epochs 10]
 */
import { tf, renderChart } from '../plugins/index.js';
import type { Dataset, GradientEstimator, Vae } from '../src/index.js';
import { Moments, trainedGradientModel } from './gradient-setup.js';
import { createProgress } from '../src/eval/progress.js';
import { median } from '../src/eval/stats.js';

export interface EstimatorSnrOptions {
  /** MNIST training rows for the short training (default 5000). */
  rows?: number;
  /** Training epochs with the ELBO before measuring (default 10). */
  epochs?: number;
  /** Rows of the fixed gradient batch (MNIST test rows, statically binarised; default 1: the per-data-point SNR of Rainforth et al.). */
  batch?: number;
  ks?: number[];
  estimators?: GradientEstimator[];
  /** N, draws per (estimator, K) (default 200; an estimated SNR has a floor of ≈ 0.67/√N for a zero-mean parameter). */
  draws?: number;
  latentDim?: number;
  hidden?: number[];
  seed?: number;
  progress?: boolean;
  /** Use this data instead of MNIST (tests). */
  data?: { train: Dataset; batch: Dataset };
}

export interface EstimatorSnrRow {
  estimator: GradientEstimator;
  k: number;
  medianSnr: number;
  meanSnr: number;
  /** Σ_i Var_i over the encoder parameters. */
  totalVariance: number;
  /** ‖mean_N ĝ‖ (the estimated gradient's norm). */
  meanGradientNorm: number;
}

export interface EstimatorSnrResult {
  settings: { rows: number; epochs: number; batch: number; ks: number[]; estimators: GradientEstimator[]; draws: number; latentDim: number; hidden: number[]; seed: number; backend: string; data: string };
  trainElbo: number | null;
  /** Encoder parameters, and those a gradient reaches (summarised). */
  parameters: number;
  rows: EstimatorSnrRow[];
  seconds: number;
}

/** The encoder's gradient of an objective's encoder surrogate (its `loss` when it has none), flattened. */
async function encoderGradient(vae: Vae, objective: ReturnType<Vae['objective']>, x: tf.Tensor2D): Promise<Float32Array> {
  const vars = vae.variables(['encoder']).map((v) => v.variable);
  const { value, grads } = tf.variableGrads(() => {
    const r = objective.compute(vae, x, { beta: 1, freeBits: 0, random: vae.random });
    return r.encoderLoss ?? r.loss;
  }, vars);
  const flat = tf.tidy(() => tf.concat(vars.map((v) => tf.reshape(grads[v.name]!, [-1]))));
  const out = (await flat.data()) as Float32Array;
  tf.dispose([value, flat, ...Object.values(grads)]);
  return out;
}

export async function runEstimatorSnr(options: EstimatorSnrOptions = {}): Promise<EstimatorSnrResult> {
  const s = {
    rows: options.rows ?? 5000,
    epochs: options.epochs ?? 10,
    batch: options.batch ?? 1,
    ks: options.ks ?? [1, 5, 10, 50],
    estimators: options.estimators ?? (['reparam', 'stl', 'dreg'] as GradientEstimator[]),
    draws: options.draws ?? 200,
    latentDim: options.latentDim ?? 20,
    hidden: options.hidden ?? [200, 200],
    seed: options.seed ?? 1,
  };
  if (!(s.draws >= 2)) throw new Error(`draws: expected at least 2 (a variance needs two draws); got ${s.draws}`);
  const started = Date.now();
  const { vae, x, trainElbo, data } = await trainedGradientModel(s, options.data);
  try {
    const parameters = vae.parameterCount(['encoder']);
    const rows: EstimatorSnrRow[] = [];
    const bar = createProgress('estimator SNR', s.estimators.length * s.ks.length * s.draws, options.progress === undefined ? {} : { enabled: options.progress });
    let reached = 0;
    try {
      for (const estimator of s.estimators) {
        for (const k of s.ks) {
          const objective = vae.objective({ type: 'iwae', samples: k, gradient: estimator }, 'estimators');
          vae.random.reseed(s.seed * 1000 + k);
          const moments = new Moments(parameters);
          for (let d = 0; d < s.draws; d++) {
            moments.add(await encoderGradient(vae, objective, x));
            moments.n++;
            bar.tick();
          }
          const snr: number[] = [];
          let total = 0;
          let norm = 0;
          for (let i = 0; i < parameters; i++) {
            const m = moments.mean(i);
            const v = moments.variance(i);
            norm += m * m;
            total += v;
            // Parameters no gradient reaches (weights of pixels that are 0 in every row) are left out.
            if (v > 1e-30) snr.push(Math.abs(m) / Math.sqrt(v));
          }
          reached = snr.length;
          rows.push({ estimator, k, medianSnr: median(snr), meanSnr: snr.reduce((a, b) => a + b, 0) / snr.length, totalVariance: total, meanGradientNorm: Math.sqrt(norm) });
        }
      }
    } finally {
      bar.stop();
    }
    return {
      settings: { ...s, backend: tf.getBackend(), data },
      trainElbo,
      parameters: reached || parameters,
      rows,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    x.dispose();
    vae.dispose();
  }
}

const g = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-2 ? v.toExponential(2) : v.toFixed(3)) : String(v));

export function formatEstimatorSnr(r: EstimatorSnrResult): string {
  const st = r.settings;
  return [
    '## Encoder-gradient SNR and variance by estimator and K (IWAE_K)',
    '',
    `Gaussian encoder ${[st.data === 'mnist' ? 784 : 'P', ...st.hidden, st.latentDim].join('-')}, Bernoulli decoder, ${st.data === 'mnist' ? 'MNIST' : st.data}: ` +
      `${st.epochs > 0 ? `trained with the ELBO for ${st.epochs} epoch${st.epochs === 1 ? '' : 's'} on ${st.rows} rows (train ELBO ${r.trainElbo?.toFixed(1)} nats)` : 'untrained'}. ` +
      `${st.draws} draws of the encoder gradient per (estimator, K) on one batch of ${st.batch} test rows; SNR_i = |mean ĝ_i| / std ĝ_i per parameter, ` +
      `over the ${r.parameters} encoder parameters a gradient reaches. Backend ${st.backend}, ${r.seconds.toFixed(0)} s.`,
    '',
    '| estimator | K | median SNR | mean SNR | Σ Var | ‖mean ĝ‖ |',
    '|---|---:|---:|---:|---:|---:|',
    ...r.rows.map((w) => `| ${w.estimator} | ${w.k} | ${g(w.medianSnr)} | ${g(w.meanSnr)} | ${g(w.totalVariance)} | ${g(w.meanGradientNorm)} |`),
  ].join('\n');
}

/** Median SNR against K (log axis), one line per estimator. */
export function estimatorSnrChart(r: EstimatorSnrResult): Buffer {
  return renderChart({
    title: 'Encoder-gradient SNR of IWAE_K by estimator',
    subtitle: `median over ${r.parameters} encoder parameters, ${r.settings.draws} draws on ${r.settings.batch} ${r.settings.data} test row${r.settings.batch === 1 ? '' : 's'}, after ${r.settings.epochs} ELBO epochs`,
    xLabel: 'K (samples per row)',
    yLabel: 'median SNR |E ĝ| / std ĝ',
    xScale: 'log',
    legend: true,
    series: r.settings.estimators.map((e) => ({ name: e, points: r.rows.filter((w) => w.estimator === e).map((w) => [w.k, w.medianSnr] as [number, number]) })),
  });
}
