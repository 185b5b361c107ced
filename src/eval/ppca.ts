import { tf } from '../core/tf.js';
import { DIAGONAL_GAUSSIAN } from '../core/posterior.js';
import { LOG_2PI } from '../core/math.js';
import type { Vae } from '../core/vae.js';
import { ensureBackend } from '../backend/select-backend.js';
import { cholesky, choleskySolve, matmul, matrix, symmetricEigen, transpose, type Matrix } from '../core/linalg.js';
import { LinearGaussianModel } from '../data/linear-gaussian.js';
import type { Dataset } from '../data/dataset.js';
import { Random } from '../core/random.js';
import { checkPositiveInt } from './log-likelihood.js';
import { createProgress } from './progress.js';
import { rowBatches, rowCount, type EvalData } from './rows.js';
import { difference, meanStdErr, type Estimate } from './stats.js';

/** Rows of real numbers: a data set, or `{ x, rows, dim }` row-major. */
export type RealRows = Pick<Dataset, 'x' | 'rows' | 'dim'> | { x: Float64Array; rows: number; dim: number };

/** Sample mean x̄ and the maximum-likelihood covariance S = (1/N) Σ_n (x_n − x̄)(x_n − x̄)ᵀ (P×P), in Float64. */
export function sampleMoments(data: RealRows): { mean: Float64Array; cov: Matrix; rows: number } {
  const { x, rows: n, dim: p } = data;
  if (n < 1) throw new Error('sampleMoments: expected at least one row; got 0');
  if (x.length !== n * p) throw new Error(`sampleMoments: expected ${n}×${p} = ${n * p} values; got ${x.length}`);
  const mean = new Float64Array(p);
  for (let r = 0; r < n; r++) for (let i = 0; i < p; i++) mean[i]! += x[r * p + i]!;
  for (let i = 0; i < p; i++) mean[i]! /= n;
  const cov = matrix(p, p);
  const c = cov.data;
  const d = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < p; i++) d[i] = x[r * p + i]! - mean[i]!;
    for (let i = 0; i < p; i++) {
      const di = d[i]!;
      for (let j = 0; j <= i; j++) c[i * p + j]! += di * d[j]!;
    }
  }
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      const v = c[i * p + j]! / n;
      c[i * p + j] = v;
      c[j * p + i] = v;
    }
  }
  return { mean, cov, rows: n };
}

/**
 * Mean log-likelihood per row of a linear-Gaussian model (PPCA) on data summarised by its
 * moments, exact (Tipping & Bishop 1999, eq. 4):
 *
 *   (1/N) Σ_n log N(x_n; b, C) = −½ [P log 2π + log det C + tr(C⁻¹ S_b)],  C = WWᵀ + σ²I,
 *   S_b = S + (x̄ − b)(x̄ − b)ᵀ,  tr(C⁻¹ S_b) = σ⁻² [tr S_b − tr(M⁻¹ Wᵀ S_b W)]   (Woodbury).
 */
export function averageLogLikelihood(model: LinearGaussianModel, moments: { mean: Float64Array; cov: Matrix }): number {
  const p = model.dataDim;
  const dd = model.latentDim;
  if (moments.mean.length !== p) throw new Error(`averageLogLikelihood: data width ${moments.mean.length}; the model's is ${p}`);
  const sb = matrix(p, p, Float64Array.from(moments.cov.data));
  const off = new Float64Array(p);
  for (let i = 0; i < p; i++) off[i] = moments.mean[i]! - model.b[i]!;
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) sb.data[i * p + j]! += off[i]! * off[j]!;
  let trS = 0;
  for (let i = 0; i < p; i++) trS += sb.data[i * p + i]!;
  const w = model.weightMatrix();
  const wtsw = matmul(transpose(w), matmul(sb, w));
  const q = choleskySolve(cholesky(model.M), wtsw);
  let trQ = 0;
  for (let j = 0; j < dd; j++) trQ += q.data[j * dd + j]!;
  const s2 = model.sigma * model.sigma;
  return -0.5 * (p * LOG_2PI + model.logDetCov + (trS - trQ) / s2);
}

export interface PpcaFit {
  /** The fitted model x = Wz + μ + σε (W P×D, μ the sample mean). */
  model: LinearGaussianModel;
  /** σ². */
  sigma2: number;
  /** Mean exact log-likelihood per row on the fitted data, nats. */
  logLikelihood: number;
}

function checkDims(p: number, d: number): void {
  if (!Number.isInteger(d) || d < 1 || d >= p) {
    throw new Error(`latentDim: expected an integer in [1, ${p - 1}] (fewer latent dimensions than the data's ${p}); got ${d}`);
  }
}

/**
 * Closed-form maximum-likelihood PPCA (Tipping & Bishop 1999, eqs. 7–8): with S = U Λ Uᵀ,
 * λ₁ ≥ … ≥ λ_P,
 *
 *   μ = x̄,  σ²_ML = (1/(P − D)) Σ_{j>D} λ_j,  W_ML = U_D (Λ_D − σ²_ML I)^{1/2}
 *
 * (unique up to a rotation W R, which leaves the likelihood unchanged). Valid for D < P and
 * σ²_ML > 0; eigenvalues below σ²_ML (possible only if fewer than D directions carry signal)
 * give zero columns.
 */
export function fitPpca(data: RealRows, latentDim: number): PpcaFit {
  const p = data.dim;
  checkDims(p, latentDim);
  const moments = sampleMoments(data);
  const { values, vectors } = symmetricEigen(moments.cov); // ascending
  let rest = 0;
  for (let j = 0; j < p - latentDim; j++) rest += values[j]!;
  const sigma2 = rest / (p - latentDim);
  if (!(sigma2 > 0)) throw new Error(`fitPpca: the data's covariance has rank ≤ ${latentDim} (σ²_ML = ${sigma2}); PPCA needs noise in the discarded directions`);
  const W = new Float64Array(p * latentDim);
  for (let j = 0; j < latentDim; j++) {
    const src = p - 1 - j; // j-th largest
    const s = Math.sqrt(Math.max(values[src]! - sigma2, 0));
    for (let i = 0; i < p; i++) W[i * latentDim + j] = vectors.data[i * p + src]! * s;
  }
  const model = new LinearGaussianModel({ W, b: moments.mean, sigma: Math.sqrt(sigma2), dataDim: p, latentDim });
  return { model, sigma2, logLikelihood: averageLogLikelihood(model, moments) };
}

export interface PpcaEmOptions {
  /** Maximum EM iterations (default 1000). */
  iterations?: number;
  /** Stop when the mean log-likelihood rises by less than this (nats per row; default 1e-10). */
  tolerance?: number;
  /** Seed of the random initial W (entries N(0, 1)); σ² starts at the mean variance of the data. */
  seed?: number;
  /** Start from this model's W and σ instead. */
  init?: LinearGaussianModel;
}

export interface PpcaEmFit extends PpcaFit {
  iterations: number;
  /** Mean log-likelihood per row after each iteration (non-decreasing: EM's monotonicity). */
  history: number[];
}

/**
 * EM for PPCA on the sample covariance (Tipping & Bishop 1999, eqs. 29–30): with M = WᵀW + σ²I,
 *
 *   W̃ = S W (σ²I + M⁻¹ WᵀSW)⁻¹ = S W (σ²M + WᵀSW)⁻¹ M,
 *   σ̃² = (1/P) tr(S − S W M⁻¹ W̃ᵀ),
 *
 * the E-step (the exact posterior p(z|x) = N(M⁻¹Wᵀ(x − μ), σ²M⁻¹)) folded into the M-step;
 * μ = x̄. Each iteration does not decrease the likelihood; the fixed points include the
 * maximum-likelihood solution of `fitPpca` (the others are saddles), reached from a generic start.
 * This is variational EM with q = the exact posterior, so its ELBO equals log p(x): zero gap.
 */
export function fitPpcaEm(data: RealRows, latentDim: number, { iterations = 1000, tolerance = 1e-10, seed = 1, init }: PpcaEmOptions = {}): PpcaEmFit {
  const p = data.dim;
  checkDims(p, latentDim);
  checkPositiveInt('iterations', iterations);
  const moments = sampleMoments(data);
  const S = moments.cov;
  let W: Matrix;
  let sigma2: number;
  if (init) {
    if (init.dataDim !== p || init.latentDim !== latentDim) {
      throw new Error(`init: expected a ${p}×${latentDim} model; got ${init.dataDim}×${init.latentDim}`);
    }
    W = init.weightMatrix();
    sigma2 = init.sigma ** 2;
  } else {
    const r = new Random(seed);
    W = matrix(p, latentDim);
    for (let i = 0; i < W.data.length; i++) W.data[i] = r.gaussian();
    let tr = 0;
    for (let i = 0; i < p; i++) tr += S.data[i * p + i]!;
    sigma2 = tr / p;
  }
  const modelOf = (w: Matrix, s2: number) =>
    new LinearGaussianModel({ W: w.data, b: moments.mean, sigma: Math.sqrt(s2), dataDim: p, latentDim });
  let model = modelOf(W, sigma2);
  const history: number[] = [];
  let prev = averageLogLikelihood(model, moments);
  let it = 0;
  for (; it < iterations; it++) {
    const M = model.M;
    const SW = matmul(S, W); // P×D
    const WtSW = matmul(transpose(W), SW); // D×D
    const A = matrix(latentDim, latentDim);
    for (let i = 0; i < A.data.length; i++) A.data[i] = sigma2 * M.data[i]! + WtSW.data[i]!;
    // W̃ = SW · A⁻¹ M  (A symmetric positive definite): W̃ᵀ = M A⁻¹ (SW)ᵀ.
    const AinvSWt = choleskySolve(cholesky(A), transpose(SW)); // D×P
    const Wnew = transpose(matmul(M, AinvSWt)); // P×D
    // σ̃² = (1/P)[tr S − tr(M⁻¹ Wᵀ S W̃)]  (tr(S W M⁻¹ W̃ᵀ) = tr(M⁻¹ W̃ᵀ S W) = tr(M⁻¹ Wᵀ S W̃)ᵀ).
    const WtSWnew = matmul(transpose(SW), Wnew); // D×D: WᵀS W̃
    const q = choleskySolve(cholesky(M), WtSWnew);
    let trS = 0;
    for (let i = 0; i < p; i++) trS += S.data[i * p + i]!;
    let trQ = 0;
    for (let j = 0; j < latentDim; j++) trQ += q.data[j * latentDim + j]!;
    W = Wnew;
    sigma2 = (trS - trQ) / p;
    model = modelOf(W, sigma2);
    const ll = averageLogLikelihood(model, moments);
    history.push(ll);
    const rise = ll - prev;
    prev = ll;
    if (Math.abs(rise) < tolerance) {
      it++;
      break;
    }
  }
  return { model, sigma2, logLikelihood: prev, iterations: it, history };
}

/**
 * The linear-Gaussian model a VAE with a linear Gaussian decoder and a standard-normal prior
 * defines: p(z) = N(0, I), p(x|z) = N(x; Wz + b, σ²I), W = (kernel `[D, P]`)ᵀ. Reads
 * `likelihood/net/0/kernel`, `likelihood/net/0/bias` and σ = exp(`likelihood/logSigma`) (or the
 * likelihood's fixed σ). Throws, saying why, for any other decoder or prior.
 */
export function decoderModel(vae: Vae): LinearGaussianModel {
  const spec = vae.spec.likelihood as { type: string; hidden?: unknown; variance?: string; sigma?: number };
  const where = `model.likelihood ${JSON.stringify(spec)}`;
  if (vae.likelihood.name !== 'gaussian') {
    throw new Error(`${where}: exact log p(x) needs the linear Gaussian decoder ({ type: 'gaussian', hidden: [] }); got "${vae.likelihood.name}"`);
  }
  if (vae.prior.kind !== 'standard-normal') {
    throw new Error(`model.prior: exact log p(x) needs the standard-normal prior; got "${vae.prior.kind}"`);
  }
  const w = vae.getWeights();
  const kernel = w['likelihood/net/0/kernel'];
  const bias = w['likelihood/net/0/bias'];
  if (!kernel || !bias || w['likelihood/net/1/kernel']) {
    throw new Error(`${where}: exact log p(x) needs a linear decoder (hidden: []); likelihood weights are ${Object.keys(w).filter((k) => k.startsWith('likelihood/')).join(', ')}`);
  }
  let logSigma: tf.Tensor | undefined = w['likelihood/logSigma'];
  if (!logSigma) logSigma = (vae.likelihood as { logSigma?: tf.Tensor }).logSigma;
  let sigma: number;
  if (logSigma) {
    if (logSigma.size !== 1) {
      throw new Error(`${where}: exact log p(x) here needs one σ for all outputs (variance 'fixed' or 'global'); got ${logSigma.size} (per-dimension)`);
    }
    sigma = Math.exp(logSigma.dataSync()[0]!);
  } else {
    sigma = spec.sigma ?? 1;
  }
  const [d, p] = kernel.shape as [number, number];
  const k = kernel.dataSync();
  const W = new Float64Array(p * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < p; j++) W[j * d + i] = k[i * p + j]!;
  return new LinearGaussianModel({ W, b: bias.dataSync(), sigma, dataDim: p, latentDim: d });
}

export interface ExactVaeReportOptions {
  /** ELBO samples per row (default 1000; the KL is closed form for a Gaussian encoder, so only the reconstruction is Monte Carlo). */
  elboSamples?: number;
  batchSize?: number;
  /** Samples per network call (default 100). */
  chunk?: number;
  /** Reseeds `vae.random` first. */
  seed?: number;
  /** The data-generating model, to report the true log p(x) beside the VAE's. */
  trueModel?: LinearGaussianModel;
  progress?: boolean;
}

/** A linear-Gaussian VAE's bound against its own exact log-likelihood (JSON-serialisable). */
export interface ExactVaeReport {
  rows: number;
  elboSamples: number;
  /** ELBO per row averaged over `elboSamples` draws. */
  elbo: Estimate;
  /** Exact log p(x) under the VAE's own decoder and prior. */
  logLikelihood: Estimate;
  /** Exact gap log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)) (up to the ELBO's Monte Carlo error). */
  gap: Estimate;
  /** KL(q(z|x) ‖ p(z|x)) in closed form, when q is a diagonal Gaussian (null otherwise). */
  klToPosterior: Estimate | null;
  /** Exact log p(x) under `trueModel`, when given. */
  trueLogLikelihood: Estimate | null;
  /** The decoder's σ. */
  sigma: number;
}

/**
 * For a VAE whose decoder is linear Gaussian (p(x|z) = N(Wz + b, σ²I), `hidden: []`, variance
 * `fixed` or `global`) and whose prior is N(0, I), the marginal is exact (see `decoderModel`):
 *
 *   log p(x) = log N(x; b, WWᵀ + σ²I),   log p(x) − ELBO(q) = KL(q(z|x) ‖ p(z|x)),
 *
 * so the gap needs no importance sampling. Reports ELBO, exact log p(x), the exact gap, and —
 * when q is a diagonal Gaussian — KL(q ‖ p(z|x)) in closed form (`LinearGaussianModel.klToPosterior`),
 * which the gap equals up to the ELBO's Monte Carlo error.
 */
export async function exactVaeReport(vae: Vae, data: EvalData, options: ExactVaeReportOptions = {}): Promise<ExactVaeReport> {
  const { elboSamples = 1000, batchSize = 500, chunk = 100, seed, trueModel, progress } = options;
  checkPositiveInt('elboSamples', elboSamples);
  checkPositiveInt('batchSize', batchSize);
  checkPositiveInt('chunk', chunk);
  const model = decoderModel(vae);
  const n = rowCount(data);
  if (n === 0) throw new Error('data: expected at least one row; got 0');
  await ensureBackend();
  if (seed !== undefined) vae.random.reseed(seed);
  const elbo = new Float64Array(n);
  const logp = new Float64Array(n);
  const truth = trueModel ? new Float64Array(n) : null;
  let kl: Float64Array | null = new Float64Array(n);
  const bar = createProgress(`exact gap (S=${elboSamples})`, n * elboSamples, progress === undefined ? {} : { enabled: progress });
  try {
    for (const { x, start, end } of rowBatches(data, batchSize)) {
      vae.checkInput(x, 'data');
      const b = end - start;
      const rows = (await x.data()) as Float32Array;
      logp.set(model.logProb(rows), start);
      if (truth && trueModel) truth.set(trueModel.logProb(rows), start);
      for (let done = 0; done < elboSamples; ) {
        const c = Math.min(chunk, elboSamples - done);
        const r = vae.elbo(x, { samples: c });
        const e = await r.elbo.data();
        r.elbo.dispose();
        r.reconstruction.dispose();
        r.kl.dispose();
        for (let i = 0; i < b; i++) elbo[start + i] = elbo[start + i]! + (c * e[i]!) / elboSamples;
        done += c;
        bar.tick(c * b);
      }
      if (kl) {
        const t = vae.terms(x, { samples: 1 });
        const post = t.posterior;
        if (post && post.kind === DIAGONAL_GAUSSIAN && vae.encoder.name === 'gaussian') {
          const [m, l] = await Promise.all([post.params.mean!.data(), post.params.logStd!.data()]);
          kl.set(model.klToPosterior(rows, m as Float32Array, l as Float32Array), start);
        } else {
          kl = null;
        }
        tf.dispose(t as unknown as tf.TensorContainer);
      }
    }
  } finally {
    bar.stop();
  }
  return {
    rows: n,
    elboSamples,
    elbo: meanStdErr(elbo),
    logLikelihood: meanStdErr(logp),
    gap: meanStdErr(difference(logp, elbo)),
    klToPosterior: kl ? meanStdErr(kl) : null,
    trueLogLikelihood: truth ? meanStdErr(truth) : null,
    sigma: model.sigma,
  };
}
