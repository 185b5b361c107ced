import { tf } from '../core/tf.js';
import type { Vae } from '../core/vae.js';
import { ensureBackend } from '../backend/select-backend.js';
import { checkPositiveInt, estimateLogLikelihood } from './log-likelihood.js';
import { createProgress } from './progress.js';
import { rowBatches, rowCount, type EvalData } from './rows.js';
import { difference, meanStdErr, type Estimate } from './stats.js';
import { SAMPLE_COUNT_HINTS, checkOptionKeys, optionKeys } from '../core/option-keys.js';

export interface AmortizationGapOptions {
  /** Adam steps on λ per batch of rows (default 100). */
  steps?: number;
  /** Adam learning rate on λ (default 1e-2). */
  learningRate?: number;
  /** ELBO samples per row in each optimisation step (default 10). */
  stepElboSamples?: number;
  /** S, ELBO samples per row when the encoder's and the optimised λ are scored (default 100, the same noise for both). */
  elboSamples?: number;
  /** K, importance samples per row of log p̂(x) (default 5000). */
  samples?: number;
  /** Rows optimised together (default 100); λ is a `[batchSize, L]` variable. */
  batchSize?: number;
  /** Samples per network call for log p̂(x) (default 100). */
  chunk?: number;
  /** Score the current λ every this many steps and keep, per row, the best seen (default: only after the last step). */
  checkEvery?: number;
  /** Seeds the noise (optimisation, scoring and log p̂(x)); default 1. */
  seed?: number;
  /** Seed of the one-off binarisation of a `binarize: 'dynamic'` data set (default 0). */
  binarizeSeed?: number;
  /** log p̂(x) per row, already estimated on the same rows (skips the estimate). */
  logLikelihood?: ArrayLike<number>;
  progress?: boolean;
}

/** Encoder ELBO ≤ optimised-q ELBO ≤ log p(x), and the two gaps between them (JSON-serialisable). */
export interface AmortizationGapReport {
  rows: number;
  steps: number;
  learningRate: number;
  stepElboSamples: number;
  elboSamples: number;
  /** K of log p̂(x). */
  samples: number;
  /** ELBO with λ = λ_φ(x), the amortised encoder. */
  encoderElbo: Estimate;
  /** ELBO with λ*(x), optimised per row (never below the encoder's: see `amortizationGap`). */
  optimizedElbo: Estimate;
  /** log p̂(x). */
  logLikelihood: Estimate;
  /** optimised ELBO − encoder ELBO ≥ 0: what amortisation costs. */
  amortizationGap: Estimate;
  /** log p̂(x) − optimised ELBO: what the family of q costs (KL(q* ‖ p(z|x)), estimated). */
  approximationGap: Estimate;
  /** log p̂(x) − encoder ELBO = amortisation gap + approximation gap. */
  totalGap: Estimate;
  /** Rows where the optimised λ scored higher than the encoder's (the others keep the encoder's λ). */
  improvedRows: number;
  perRow: { encoderElbo: number[]; optimizedElbo: number[]; logLikelihood: number[] };
}

/**
 * Inference suboptimality (Cremer, Li & Duvenaud 2018, arXiv:1801.03558):
 *
 *   log p(x) − ELBO[q_φ] = (log p(x) − ELBO[q*])  +  (ELBO[q*] − ELBO[q_φ])
 *                            approximation gap        amortisation gap
 *
 * where q_φ = q(z; λ_φ(x)) is the encoder's distribution and q* = q(z; λ*) the best member of the
 * same family for this x. λ* is found as the E-step of non-amortised variational EM: start from
 * λ = `vae.encoder.params(x)` and run Adam on Σ_rows ELBO(x_i; λ_i) (`vae.elbo(x, { samples:
 * stepElboSamples, lambda })`) with the model's weights untouched; rows are optimised together as one `[B, L]`
 * variable (their gradients are independent).
 *
 * Both λ are scored with the same fixed noise (`elboSamples` draws from one seed), and each row
 * keeps the better of the two (and of any checkpoint, `checkEvery`), so optimised ≥ encoder holds
 * on every row by construction: a row where optimisation did not help (too few steps, a noisy
 * objective) reports an amortisation gap of 0, never a negative one. The gaps therefore use
 * λ* = argmax over the candidates seen, a lower estimate of the true amortisation gap.
 * log p̂(x) is the importance-sampled estimate (itself ≤ log p(x) in expectation).
 */
const AMORTIZATION_GAP_OPTIONS = optionKeys<AmortizationGapOptions>()(
  'steps', 'learningRate', 'stepElboSamples', 'elboSamples', 'samples', 'batchSize', 'chunk', 'checkEvery', 'seed', 'binarizeSeed', 'logLikelihood', 'progress',
);

export async function amortizationGap(vae: Vae, data: EvalData, options: AmortizationGapOptions = {}): Promise<AmortizationGapReport> {
  checkOptionKeys('amortizationGap', options, AMORTIZATION_GAP_OPTIONS, {
    ...SAMPLE_COUNT_HINTS,
    evalSamples: 'the ELBO\'s sample count when scoring is "elboSamples" (it was "evalSamples").',
  });
  const {
    steps = 100,
    learningRate = 1e-2,
    stepElboSamples = 10,
    elboSamples = 100,
    samples = 5000,
    batchSize = 100,
    chunk = 100,
    seed = 1,
    binarizeSeed = 0,
    progress,
  } = options;
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`steps: expected a non-negative integer; got ${steps}`);
  if (!(learningRate > 0)) throw new Error(`learningRate: expected a positive number; got ${learningRate}`);
  checkPositiveInt('stepElboSamples', stepElboSamples);
  checkPositiveInt('elboSamples', elboSamples);
  checkPositiveInt('samples', samples);
  checkPositiveInt('batchSize', batchSize);
  const checkEvery = options.checkEvery ?? Math.max(1, steps);
  checkPositiveInt('checkEvery', checkEvery);
  const n = rowCount(data);
  if (n === 0) throw new Error('data: expected at least one row; got 0');
  if (options.logLikelihood && options.logLikelihood.length !== n) {
    throw new Error(`logLikelihood: expected ${n} per-row values (one per data row); got ${options.logLikelihood.length}`);
  }

  await ensureBackend();
  const enc = new Float64Array(n);
  const opt = new Float64Array(n);
  let improved = 0;
  vae.random.reseed(seed);
  const bar = createProgress(`amortisation gap (${steps} steps)`, n * Math.max(steps, 1), progress === undefined ? {} : { enabled: progress });
  try {
    let batchIndex = 0;
    for (const { x, start, end } of rowBatches(data, batchSize, { binarizeSeed })) {
      vae.checkInput(x, 'data');
      const b = end - start;
      const evalSeed = (Math.imul(seed, 0x9e3779b1) + 7919 * ++batchIndex) >>> 0;
      // Scores λ with the same noise every time, leaving the optimisation's stream where it was.
      const score = async (lambda: tf.Tensor2D): Promise<Float32Array> => {
        const state = vae.random.getState();
        vae.random.reseed(evalSeed);
        const r = vae.elbo(x, { samples: elboSamples, lambda });
        vae.random.setState(state);
        const v = (await r.elbo.data()) as Float32Array;
        r.elbo.dispose();
        r.reconstruction.dispose();
        r.kl.dispose();
        return v;
      };
      const lambda0 = vae.encoder.params(x);
      const lambda = tf.variable(lambda0, true);
      const best = tf.variable(lambda0, false);
      lambda0.dispose();
      const optimizer = tf.train.adam(learningRate);
      try {
        const encScore = await score(best);
        const bestScore = Float64Array.from(encScore);
        const fromOptimiser = new Uint8Array(b);
        for (let i = 0; i < b; i++) enc[start + i] = encScore[i]!;
        for (let step = 1; step <= steps; step++) {
          const cost = optimizer.minimize(() => tf.neg(tf.sum(vae.elbo(x, { samples: stepElboSamples, lambda }).elbo)) as tf.Scalar, false, [lambda]);
          cost?.dispose();
          bar.tick(b);
          if (step % checkEvery === 0 || step === steps) {
            const s = await score(lambda);
            const better = new Uint8Array(b);
            for (let i = 0; i < b; i++) {
              if (s[i]! > bestScore[i]!) {
                better[i] = 1;
                bestScore[i] = s[i]!;
                fromOptimiser[i] = 1;
              }
            }
            const next = tf.tidy(() => {
              const mask = tf.expandDims(tf.cast(tf.tensor1d(better, 'int32'), 'bool'), 1);
              return tf.where(tf.broadcastTo(mask, lambda.shape), lambda, best);
            });
            best.assign(next);
            next.dispose();
          }
        }
        if (steps === 0) bar.tick(b);
        for (let i = 0; i < b; i++) {
          opt[start + i] = bestScore[i]!;
          improved += fromOptimiser[i]!;
        }
      } finally {
        optimizer.dispose();
        lambda.dispose();
        best.dispose();
      }
    }
  } finally {
    bar.stop();
  }

  const ll = options.logLikelihood
    ? Float64Array.from(options.logLikelihood)
    : (
        await estimateLogLikelihood(vae, data, {
          samples,
          chunk,
          batchSize,
          seed: (seed + 1) >>> 0,
          binarizeSeed,
          ...(progress === undefined ? {} : { progress }),
        })
      ).perRow;

  return {
    rows: n,
    steps,
    learningRate,
    stepElboSamples,
    elboSamples,
    samples,
    encoderElbo: meanStdErr(enc),
    optimizedElbo: meanStdErr(opt),
    logLikelihood: meanStdErr(ll),
    amortizationGap: meanStdErr(difference(opt, enc)),
    approximationGap: meanStdErr(difference(ll, opt)),
    totalGap: meanStdErr(difference(ll, enc)),
    improvedRows: improved,
    perRow: { encoderElbo: Array.from(enc), optimizedElbo: Array.from(opt), logLikelihood: Array.from(ll) },
  };
}

const f = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : String(v));

/** A Markdown table of the decomposition log p̂(x) − ELBO = approximation gap + amortisation gap. */
export function formatAmortizationGap(r: AmortizationGapReport): string {
  const row = (name: string, e: Estimate) => `| ${name} | ${f(e.mean)} | ${f(e.stdErr)} |`;
  return [
    `${r.rows} rows; λ optimised per row with Adam (${r.steps} steps, learning rate ${r.learningRate}, ${r.stepElboSamples} samples per step); ` +
      `both ELBOs scored with the same ${r.elboSamples} draws; ${r.improvedRows}/${r.rows} rows improved (the others keep the encoder's λ).`,
    '',
    '| quantity | mean (nats) | ± s.e. |',
    '|---|---:|---:|',
    row('encoder ELBO', r.encoderElbo),
    row('optimised-q ELBO', r.optimizedElbo),
    row(`log p̂(x) (K=${r.samples})`, r.logLikelihood),
    row('amortisation gap (optimised − encoder ELBO)', r.amortizationGap),
    row('approximation gap (log p̂(x) − optimised ELBO)', r.approximationGap),
    row('total gap (log p̂(x) − encoder ELBO)', r.totalGap),
  ].join('\n');
}
