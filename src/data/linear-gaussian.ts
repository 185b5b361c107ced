import { checkPositiveInt, checkTensorSize } from '../core/checks.js';
import { Random } from '../core/random.js';
import {
  cholesky,
  choleskySolve,
  inverseSpd,
  logDetFromCholesky,
  matmul,
  matrix,
  orthonormalize,
  solveLower,
  transpose,
  type Matrix,
} from '../core/linalg.js';
import { LOG_2PI } from '../core/math.js';
import type { Dataset } from './dataset.js';

type Rows = Float32Array | Float64Array;

export interface LinearGaussianParams {
  /** The loading matrix W, P×D row-major (`W[i·D + j]`). */
  W: ArrayLike<number>;
  /** The offset b, length P. */
  b: ArrayLike<number>;
  /** The observation noise standard deviation σ > 0. */
  sigma: number;
  /** P. */
  dataDim: number;
  /** D. */
  latentDim: number;
}

export interface RandomLinearGaussianOptions {
  dataDim: number;
  latentDim: number;
  sigma: number;
  seed: number;
  /** Orthogonal columns of W (WᵀW diagonal), so the exact posterior is a diagonal Gaussian. Default true. */
  orthogonal?: boolean;
  /**
   * Column norms ‖W_{·j}‖ (one number for all columns, or one per column). Default: evenly
   * spaced from 2 (first column) down to 0.5 (last; 1 when D = 1), so the posterior variances differ.
   */
  scale?: number | readonly number[];
  /** Standard deviation of the entries of b ~ N(0, bScale²). Default 1. */
  bScale?: number;
}

/**
 * The linear-Gaussian latent variable model (probabilistic PCA; Tipping & Bishop 1999):
 *
 *   z ~ N(0, I_D),  x = W z + b + σ ε,  ε ~ N(0, I_P)
 *   ⇒ p(x) = N(x; b, C),  C = W Wᵀ + σ² I_P,
 *     p(z|x) = N(z; M⁻¹ Wᵀ (x − b), σ² M⁻¹),  M = Wᵀ W + σ² I_D.
 *
 * log p(x) is computed in O(P·D + D²) per row (after an O(P·D² + D³) set-up), never forming the
 * P×P matrix C, by the Woodbury identity and the matrix determinant lemma:
 *
 *   C⁻¹ = σ⁻² (I_P − W M⁻¹ Wᵀ),   log det C = (P − D) log σ² + log det M,
 *   log p(x) = −½ [P log 2π + log det C + σ⁻² (‖r‖² − uᵀ M⁻¹ u)],  r = x − b, u = Wᵀ r.
 *
 * Everything is Float64. This is the model whose exact log-likelihood and posterior the
 * bound-tightness tests compare a VAE against (a linear Gaussian decoder with weights W, b, σ
 * and an encoder that outputs the exact posterior make the ELBO equal log p(x)).
 */
export class LinearGaussianModel {
  readonly W: Float64Array;
  readonly b: Float64Array;
  readonly sigma: number;
  readonly dataDim: number;
  readonly latentDim: number;
  /** M = WᵀW + σ²I_D (D×D). */
  readonly M: Matrix;
  /** Cholesky factor of M. */
  private readonly mChol: Matrix;
  /** log det C. */
  readonly logDetCov: number;

  constructor({ W, b, sigma, dataDim, latentDim }: LinearGaussianParams) {
    for (const [field, v] of [['dataDim', dataDim], ['latentDim', latentDim]] as const) {
      checkPositiveInt(`LinearGaussianModel ${field}`, v);
    }
    if (!(sigma > 0) || !Number.isFinite(sigma)) {
      throw new Error(`LinearGaussianModel sigma: expected a positive finite number; got ${sigma}`);
    }
    if (W.length !== dataDim * latentDim) {
      throw new Error(`LinearGaussianModel W: expected ${dataDim}×${latentDim} = ${dataDim * latentDim} values (P×D row-major); got ${W.length}`);
    }
    if (b.length !== dataDim) throw new Error(`LinearGaussianModel b: expected ${dataDim} values; got ${b.length}`);
    this.W = Float64Array.from(W);
    this.b = Float64Array.from(b);
    for (const [field, arr] of [['W', this.W], ['b', this.b]] as const) {
      const i = arr.findIndex((v) => !Number.isFinite(v));
      if (i >= 0) throw new Error(`LinearGaussianModel ${field}[${i}]: expected a finite number; got ${arr[i]}`);
    }
    this.sigma = sigma;
    this.dataDim = dataDim;
    this.latentDim = latentDim;
    const w = this.weightMatrix();
    const m = matmul(transpose(w), w);
    for (let j = 0; j < latentDim; j++) m.data[j * latentDim + j]! += sigma * sigma;
    this.M = m;
    this.mChol = cholesky(m);
    this.logDetCov = (dataDim - latentDim) * Math.log(sigma * sigma) + logDetFromCholesky(this.mChol);
  }

  /**
   * A model with random W (Gaussian entries; orthonormalised by QR, then column j scaled to
   * norm s_j, when `orthogonal`), and b ~ N(0, bScale²). Draws from `new Random(seed)`: the P×D
   * entries of W row-major, then the P entries of b.
   */
  static random({ dataDim, latentDim, sigma, seed, orthogonal = true, scale, bScale = 1 }: RandomLinearGaussianOptions): LinearGaussianModel {
    if (orthogonal && latentDim > dataDim) {
      throw new Error(`LinearGaussianModel.random latentDim: orthogonal columns need latentDim ≤ dataDim (${dataDim}); got ${latentDim}`);
    }
    const s = columnScales(latentDim, scale);
    const random = new Random(seed);
    const g = matrix(dataDim, latentDim);
    for (let i = 0; i < g.data.length; i++) g.data[i] = random.gaussian();
    const W = orthogonal ? orthonormalize(g).data : g.data.map((v) => v / Math.sqrt(dataDim));
    for (let i = 0; i < dataDim; i++) for (let j = 0; j < latentDim; j++) W[i * latentDim + j]! *= s[j]!;
    const b = new Float64Array(dataDim);
    for (let i = 0; i < dataDim; i++) b[i] = bScale * random.gaussian();
    return new LinearGaussianModel({ W, b, sigma, dataDim, latentDim });
  }

  /** W as a P×D matrix (a copy). */
  weightMatrix(): Matrix {
    return matrix(this.dataDim, this.latentDim, Float64Array.from(this.W));
  }

  /** The marginal covariance C = WWᵀ + σ²I (P×P; dense, for references and small P). */
  covariance(): Matrix {
    const w = this.weightMatrix();
    const c = matmul(w, transpose(w));
    for (let i = 0; i < this.dataDim; i++) c.data[i * this.dataDim + i]! += this.sigma * this.sigma;
    return c;
  }

  private rowCount(x: Rows, what: string): number {
    if (x.length % this.dataDim !== 0) {
      throw new Error(`LinearGaussianModel.${what}: expected rows of width ${this.dataDim} (length a multiple of ${this.dataDim}); got length ${x.length}`);
    }
    return x.length / this.dataDim;
  }

  /** U = (x − b)·W per row: u = Wᵀ(x − b), as a B×D matrix; also ‖x − b‖² per row. */
  private project(x: Rows, rows: number): { u: Matrix; rr: Float64Array } {
    const P = this.dataDim;
    const D = this.latentDim;
    const u = matrix(rows, D);
    const rr = new Float64Array(rows);
    for (let n = 0; n < rows; n++) {
      let s = 0;
      for (let i = 0; i < P; i++) {
        const r = x[n * P + i]! - this.b[i]!;
        s += r * r;
        for (let j = 0; j < D; j++) u.data[n * D + j]! += r * this.W[i * D + j]!;
      }
      rr[n] = s;
    }
    return { u, rr };
  }

  /** Exact log p(x) = log N(x; b, WWᵀ + σ²I) per row (nats), by Woodbury (see the class comment). */
  logProb(x: Rows): Float64Array {
    const rows = this.rowCount(x, 'logProb');
    const { u, rr } = this.project(x, rows);
    const y = solveLower(this.mChol, transpose(u)); // D×B: L⁻¹u per column
    const D = this.latentDim;
    const out = new Float64Array(rows);
    const s2 = this.sigma * this.sigma;
    const c = this.dataDim * LOG_2PI + this.logDetCov;
    for (let n = 0; n < rows; n++) {
      let yy = 0;
      for (let j = 0; j < D; j++) yy += y.data[j * rows + n]! ** 2;
      out[n] = -0.5 * (c + (rr[n]! - yy) / s2);
    }
    return out;
  }

  /**
   * The exact posterior p(z|x) = N(M⁻¹Wᵀ(x − b), σ²M⁻¹): means `[B·D]` row-major and the shared
   * covariance `[D·D]`.
   */
  posterior(x: Rows): { mean: Float64Array; cov: Float64Array } {
    const rows = this.rowCount(x, 'posterior');
    const { u } = this.project(x, rows);
    const mean = transpose(choleskySolve(this.mChol, transpose(u))).data;
    const cov = inverseSpd(this.M).data.map((v) => v * this.sigma * this.sigma);
    return { mean, cov };
  }

  /**
   * n joint draws: for each row, D values z ~ N(0, I) then P values ε ~ N(0, I) from `random`,
   * x = Wz + b + σε. Returns x `[n·P]` and z `[n·D]` in Float64.
   */
  sampleJoint(n: number, random: Random): { x: Float64Array; z: Float64Array } {
    if (!Number.isInteger(n) || n < 0) throw new Error(`LinearGaussianModel.sample n: expected a non-negative integer; got ${n}`);
    const P = this.dataDim;
    const D = this.latentDim;
    checkTensorSize(`linear-gaussian: ${n} rows`, [n, P]);
    const x = new Float64Array(n * P);
    const z = new Float64Array(n * D);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < D; j++) z[r * D + j] = random.gaussian();
      for (let i = 0; i < P; i++) {
        let v = this.b[i]! + this.sigma * random.gaussian();
        for (let j = 0; j < D; j++) v += this.W[i * D + j]! * z[r * D + j]!;
        x[r * P + i] = v;
      }
    }
    return { x, z };
  }

  /** n rows x ~ p(x) as a float32 Dataset (`linear-gaussian`, binarize `none`); draws as `sampleJoint`. */
  sample(n: number, random: Random): Dataset {
    const { x } = this.sampleJoint(n, random);
    return { name: 'linear-gaussian', x: Float32Array.from(x), rows: n, dim: this.dataDim, binarize: 'none' };
  }

  /**
   * KL(q ‖ p(z|x)) per row for a diagonal Gaussian q = N(m, diag(e^{2ℓ})) (m = qMean, ℓ = qLogStd,
   * both `[B·D]`) against the exact posterior N(μ, Σ), Σ = σ²M⁻¹, in closed form:
   *
   *   KL = ½ [tr(Σ⁻¹S) + (μ − m)ᵀΣ⁻¹(μ − m) − D + log det Σ − log det S],
   *   Σ⁻¹ = M/σ²,  tr(Σ⁻¹S) = Σ_j M_jj e^{2ℓ_j}/σ²,  log det Σ = D log σ² − log det M,  log det S = 2Σ_j ℓ_j.
   *
   * It is the tightness gap: log p(x) − ELBO(q) = KL(q ‖ p(z|x)).
   */
  klToPosterior(x: Rows, qMean: Rows, qLogStd: Rows): Float64Array {
    const rows = this.rowCount(x, 'klToPosterior');
    const D = this.latentDim;
    for (const [field, a] of [['qMean', qMean], ['qLogStd', qLogStd]] as const) {
      if (a.length !== rows * D) {
        throw new Error(`LinearGaussianModel.klToPosterior ${field}: expected ${rows}×${D} = ${rows * D} values; got ${a.length}`);
      }
    }
    const { mean } = this.posterior(x);
    const s2 = this.sigma * this.sigma;
    const M = this.M.data;
    const logDetSigma = D * Math.log(s2) - logDetFromCholesky(this.mChol);
    const out = new Float64Array(rows);
    const d = new Float64Array(D);
    for (let n = 0; n < rows; n++) {
      let tr = 0;
      let logDetS = 0;
      for (let j = 0; j < D; j++) {
        const l = qLogStd[n * D + j]!;
        tr += (M[j * D + j]! * Math.exp(2 * l)) / s2;
        logDetS += 2 * l;
        d[j] = mean[n * D + j]! - qMean[n * D + j]!;
      }
      let quad = 0;
      for (let j = 0; j < D; j++) {
        let mj = 0;
        for (let k = 0; k < D; k++) mj += M[j * D + k]! * d[k]!;
        quad += d[j]! * mj;
      }
      out[n] = 0.5 * (tr + quad / s2 - D + logDetSigma - logDetS);
    }
    return out;
  }

  /** The parameters, as plain arrays (for saving alongside results). */
  toJSON(): { W: number[]; b: number[]; sigma: number; dataDim: number; latentDim: number } {
    return { W: Array.from(this.W), b: Array.from(this.b), sigma: this.sigma, dataDim: this.dataDim, latentDim: this.latentDim };
  }
}

function columnScales(d: number, scale: number | readonly number[] | undefined): number[] {
  if (scale === undefined) return Array.from({ length: d }, (_, j) => (d === 1 ? 1 : 2 - (1.5 * j) / (d - 1)));
  if (typeof scale === 'number') {
    if (!(scale > 0)) throw new Error(`LinearGaussianModel.random scale: expected a positive number; got ${scale}`);
    return new Array<number>(d).fill(scale);
  }
  if (scale.length !== d || scale.some((v) => !(v > 0))) {
    throw new Error(`LinearGaussianModel.random scale: expected ${d} positive numbers; got [${scale.join(', ')}]`);
  }
  return [...scale];
}
