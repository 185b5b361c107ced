import { tf } from '../core/tf.js';
import { SAMPLE_COUNT_HINTS, checkOptionKeys, optionKeys } from '../core/option-keys.js';
import type { Vae } from '../core/vae.js';
import { DIAGONAL_GAUSSIAN } from '../core/posterior.js';
import { checkPositiveInt } from '../core/checks.js';
import { LogMeanExpAccumulator, streamLogWeights } from './log-likelihood.js';
import { ImportanceDiagnosticsAccumulator } from './importance-diagnostics.js';

/**
 * How q(z|x) was put on the grid:
 *  - `exact`: the encoder's own log q(z|x) at each grid point (`encoder.logProb(z, λ)`);
 *  - `closed-form`: the diagonal Gaussian the encoder reports as its posterior (exact for it);
 *  - `kde`: a Gaussian kernel density estimate from samples (Scott's bandwidth) — an estimate,
 *    labelled so on the picture.
 */
export type QDensitySource = 'exact' | 'closed-form' | 'kde';

/** An encoder that can score given samples: log q(z|x) `[K, B]` at z `[K, B, D]` with parameters λ `[B, L]`. */
interface ScoringEncoder {
  logProb(z: tf.Tensor3D, lambda: tf.Tensor2D): tf.Tensor2D;
}

function canScore(e: unknown): e is ScoringEncoder {
  return typeof (e as Partial<ScoringEncoder>).logProb === 'function';
}

export interface PosteriorGridOptions {
  /** The two latent coordinates shown (default [0, 1]); the others are held at the encoder's point summary. */
  dims?: readonly [number, number];
  /** Grid points per axis (default 121). */
  size?: number;
  /** The box `[[lo₁, hi₁], [lo₂, hi₂]]`; default: found from a coarse grid over ±6 (where p(z|x) is within e⁻¹⁴ of its peak) and the q samples. */
  box?: readonly [readonly [number, number], readonly [number, number]];
  /** Samples of q drawn for the overlay (and the density estimate when q cannot be scored); default 300. */
  overlaySamples?: number;
  /** Samples of q for the kernel density estimate when needed (default 4000). */
  kdeSamples?: number;
  /** K, importance samples of the row's log p̂(x) (default 5000); S of its ELBO is min(K, 1000). */
  samples?: number;
  /** Reseeds `vae.random` first (default 1). */
  seed?: number;
}

/** The true posterior and q(z|x) of one data row on a grid over two latent coordinates. */
export interface PosteriorGrid {
  dims: [number, number];
  latentDim: number;
  /** Grid-point centres along each shown coordinate. */
  axes: [Float64Array, Float64Array];
  /** Cell area h₁h₂. */
  cellArea: number;
  /** log p(x|z) + log p(z) at each grid point, row-major [i₁ · size + i₂]. */
  logJoint: Float64Array;
  /** log p(z|x) on the grid (densities: Σ exp(.)·cellArea = 1). */
  logPosterior: Float64Array;
  /**
   * log Σ_grid p(x, z)·cellArea: log p(x) by the midpoint rule when the latent is 2-D; for a larger
   * latent the normaliser of the slice (the other coordinates fixed), not log p(x).
   */
  gridLogPx: number;
  /** log q on the grid (densities; for a slice the conditional of q, normalised on the grid; for `kde` the estimate). */
  logQ: Float64Array;
  qSource: QDensitySource;
  /** q samples' two shown coordinates, `[n, 2]` row-major (the overlay of the picture). */
  overlay: Float64Array;
  /** The other coordinates' values (the encoder's point summary), all D of it; the shown two are unused. */
  fixedAt: Float64Array;
  /** ELBO of the row (mean log w over S draws) and S. */
  elbo: number;
  elboSamples: number;
  /** log p̂(x) = log mean w over K draws, with ESS and Pareto k̂ of those weights. */
  logPHat: number;
  /** K of `logPHat`. */
  samples: number;
  ess: number;
  paretoK: number;
  /** Fraction of q's samples that fell inside the box (the rest are not drawn). */
  samplesInside: number;
}

function logSumExp(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.exp(a[i]! - m);
  return m + Math.log(s);
}

function linspace(lo: number, hi: number, n: number): Float64Array {
  const h = (hi - lo) / n;
  return Float64Array.from({ length: n }, (_, i) => lo + (i + 0.5) * h);
}

/** z `[G², 1, D]` float32: `base` with coordinates dims set to the grid points. */
function gridPoints(axes: [Float64Array, Float64Array], dims: [number, number], base: Float64Array): Float32Array {
  const [a, b] = axes;
  const d = base.length;
  const out = new Float32Array(a.length * b.length * d);
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      const o = (i * b.length + j) * d;
      for (let k = 0; k < d; k++) out[o + k] = base[k]!;
      out[o + dims[0]] = a[i]!;
      out[o + dims[1]] = b[j]!;
    }
  }
  return out;
}

/** Evaluates f on z `[n, 1, D]` in chunks, returning `[n]` float64. */
function evalChunked(points: Float32Array, d: number, f: (z: tf.Tensor3D) => tf.Tensor2D, chunk = 2048): Float64Array {
  const n = points.length / d;
  const out = new Float64Array(n);
  for (let s = 0; s < n; s += chunk) {
    const c = Math.min(chunk, n - s);
    const v = tf.tidy(() => f(tf.tensor3d(points.subarray(s * d, (s + c) * d), [c, 1, d])));
    out.set(v.dataSync(), s);
    v.dispose();
  }
  return out;
}

/** Scott's-rule Gaussian KDE of 2-D points on the grid, log densities. */
function kdeOnGrid(pts: Float64Array, axes: [Float64Array, Float64Array]): Float64Array {
  const n = pts.length / 2;
  const sd = [0, 1].map((c) => {
    let m = 0;
    for (let i = 0; i < n; i++) m += pts[2 * i + c]!;
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (pts[2 * i + c]! - m) ** 2;
    return Math.sqrt(v / Math.max(1, n - 1)) || 1e-3;
  });
  const h = sd.map((s) => s * n ** (-1 / 6));
  const [a, b] = axes;
  const out = new Float64Array(a.length * b.length);
  const logNorm = -Math.log(2 * Math.PI * h[0]! * h[1]! * n);
  const terms = new Float64Array(n);
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      for (let k = 0; k < n; k++) {
        const u = (a[i]! - pts[2 * k]!) / h[0]!;
        const v = (b[j]! - pts[2 * k + 1]!) / h[1]!;
        terms[k] = -0.5 * (u * u + v * v);
      }
      out[i * b.length + j] = logNorm + logSumExp(terms);
    }
  }
  return out;
}

/**
 * The true posterior of one data row on a grid, beside q(z|x):
 *
 *   log p(z|x) = log p(x|z) + log p(z) − log p(x),   log p(x) ≈ log Σ_grid p(x, z)·h₁h₂
 *
 * (the midpoint rule; exact up to the grid when the latent is 2-D and the box holds the posterior).
 * For D > 2 the picture is the slice through the encoder's point summary (the other coordinates
 * fixed there), of both p(z|x) and — when q can be scored — q(z|x), each normalised on the grid.
 * q's density is the encoder's own (`logProb`), its closed-form diagonal Gaussian, or else a kernel
 * density estimate from samples (`qSource` says which). Also the row's ELBO and log p̂(x) with the
 * ESS and Pareto k̂ of its weights, for the caption.
 *
 * `row` is one data row (P values). Reseeds `vae.random`.
 */
const POSTERIOR_GRID_OPTIONS = optionKeys<PosteriorGridOptions>()('dims', 'size', 'box', 'overlaySamples', 'kdeSamples', 'samples', 'seed');

export async function posteriorGrid(vae: Vae, row: ArrayLike<number>, options: PosteriorGridOptions = {}): Promise<PosteriorGrid> {
  const D = vae.latentDim;
  const dims: [number, number] = [options.dims?.[0] ?? 0, options.dims?.[1] ?? 1];
  const size = options.size ?? 121;
  const overlay = options.overlaySamples ?? 300;
  const kdeSamples = options.kdeSamples ?? 4000;
  checkOptionKeys('posteriorGrid', options, POSTERIOR_GRID_OPTIONS, SAMPLE_COUNT_HINTS);
  const K = options.samples ?? 5000;
  checkPositiveInt('size', size);
  checkPositiveInt('overlaySamples', overlay);
  checkPositiveInt('samples', K);
  if (D < 2) throw new Error(`posteriorGrid: the model's latentDim is ${D}; a picture needs at least 2 latent coordinates`);
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d >= D) throw new Error(`dims: expected two different coordinates in 0..${D - 1}; got [${dims.join(', ')}]`);
  }
  if (dims[0] === dims[1]) throw new Error(`dims: expected two different coordinates in 0..${D - 1}; got [${dims.join(', ')}]`);
  if (row.length !== vae.dataDim) throw new Error(`row: expected ${vae.dataDim} values; got ${row.length}`);
  for (let i = 0; i < row.length; i++) {
    if (!Number.isFinite(row[i]!)) throw new Error(`row: value ${i} is ${row[i]}; expected finite numbers`);
  }
  vae.random.reseed(options.seed ?? 1);
  const x = tf.tensor2d(Float32Array.from(row), [1, vae.dataDim]);
  try {
    const lambda = vae.encoder.params(x);
    const mode = vae.encoder.mode(x);
    const fixedAt = Float64Array.from(mode.dataSync() as Float32Array);
    mode.dispose();
    const logJointAt = (z: tf.Tensor3D) => tf.add(vae.prior.logProb(z), vae.likelihood.logProb(x, vae.decoderInput(z))) as tf.Tensor2D;

    // q samples: the overlay (and the KDE when needed), two coordinates.
    const pick = (zs: Float32Array, n: number) => {
      const out = new Float64Array(2 * n);
      for (let k = 0; k < n; k++) {
        out[2 * k] = zs[k * D + dims[0]]!;
        out[2 * k + 1] = zs[k * D + dims[1]]!;
      }
      return out;
    };
    const drawn = tf.tidy(() => vae.encoder.sampleFromParams(lambda, overlay).z);
    const samples = pick(drawn.dataSync() as Float32Array, overlay);
    drawn.dispose();

    // The box: where the posterior (on a coarse grid over ±6 and the samples' range) is within e⁻¹⁴ of its peak.
    let box = options.box;
    if (!box) {
      const range = (c: number): [number, number] => {
        let lo = -6;
        let hi = 6;
        for (let k = 0; k < overlay; k++) {
          lo = Math.min(lo, samples[2 * k + c]!);
          hi = Math.max(hi, samples[2 * k + c]!);
        }
        return [lo, hi];
      };
      const r = [range(0), range(1)] as const;
      const coarse: [Float64Array, Float64Array] = [linspace(r[0][0], r[0][1], 161), linspace(r[1][0], r[1][1], 161)];
      const lj = evalChunked(gridPoints(coarse, dims, fixedAt), D, logJointAt);
      let peak = -Infinity;
      for (const v of lj) if (v > peak) peak = v;
      const ext = [
        [Infinity, -Infinity],
        [Infinity, -Infinity],
      ];
      for (let i = 0; i < 161; i++) {
        for (let j = 0; j < 161; j++) {
          if (lj[i * 161 + j]! < peak - 14) continue;
          ext[0]![0] = Math.min(ext[0]![0]!, coarse[0][i]!);
          ext[0]![1] = Math.max(ext[0]![1]!, coarse[0][i]!);
          ext[1]![0] = Math.min(ext[1]![0]!, coarse[1][j]!);
          ext[1]![1] = Math.max(ext[1]![1]!, coarse[1][j]!);
        }
      }
      // Include the bulk of q's samples too, so a q off the posterior is seen; pad by 10 % and two coarse cells.
      const b = [0, 1].map((c) => {
        const vals = Float64Array.from({ length: overlay }, (_, k) => samples[2 * k + c]!).sort();
        let lo = Math.min(ext[c]![0]!, vals[Math.floor(0.01 * overlay)]!);
        let hi = Math.max(ext[c]![1]!, vals[Math.ceil(0.99 * overlay) - 1]!);
        if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = r[c]!;
        const cell = (r[c]![1] - r[c]![0]) / 161;
        const pad = 0.1 * (hi - lo) + 2 * cell;
        return [lo - pad, hi + pad] as [number, number];
      });
      box = [b[0]!, b[1]!];
    }
    const axes: [Float64Array, Float64Array] = [linspace(box[0][0], box[0][1], size), linspace(box[1][0], box[1][1], size)];
    const cellArea = ((box[0][1] - box[0][0]) / size) * ((box[1][1] - box[1][0]) / size);
    const points = gridPoints(axes, dims, fixedAt);
    const logJoint = evalChunked(points, D, logJointAt);
    const gridLogPx = logSumExp(logJoint) + Math.log(cellArea);
    const logPosterior = logJoint.map((v) => v - gridLogPx);

    // q on the grid.
    let qSource: QDensitySource;
    let logQ: Float64Array;
    const enc = vae.encoder;
    const probe = enc.sampleFromParams(lambda, 1);
    const post = probe.posterior;
    const gaussian =
      post?.kind === DIAGONAL_GAUSSIAN ? { mean: post.params.mean!.dataSync(), logStd: post.params.logStd!.dataSync() } : null;
    tf.dispose([probe.z, probe.logQ, ...(post ? Object.values(post.params) : [])]);
    if (canScore(enc)) {
      qSource = 'exact';
      logQ = evalChunked(points, D, (z) => enc.logProb(z, lambda));
    } else if (gaussian) {
      qSource = 'closed-form';
      const { mean, logStd } = gaussian;
      logQ = new Float64Array(size * size);
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          let s = -Math.log(2 * Math.PI);
          for (const [c, v] of [
            [dims[0], axes[0][i]!],
            [dims[1], axes[1][j]!],
          ] as const) {
            const e = (v - mean[c]!) / Math.exp(logStd[c]!);
            s += -0.5 * e * e - logStd[c]!;
          }
          logQ[i * size + j] = s;
        }
      }
    } else {
      qSource = 'kde';
      const zs = tf.tidy(() => enc.sampleFromParams(lambda, kdeSamples).z);
      logQ = kdeOnGrid(pick(zs.dataSync() as Float32Array, kdeSamples), axes);
      zs.dispose();
    }
    if (qSource === 'exact' && D > 2) {
      // The slice of q through the fixed coordinates, normalised on the grid like p's.
      const z = logSumExp(logQ) + Math.log(cellArea);
      logQ = logQ.map((v) => v - z);
    }

    // The row's ELBO and log p̂(x), with ESS and k̂ of the weights.
    const elboSamples = Math.min(K, 1000);
    const lw = vae.logWeights(x, { samples: elboSamples });
    const lwValues = lw.dataSync() as Float32Array;
    lw.dispose();
    let elbo = 0;
    for (const v of lwValues) elbo += v / elboSamples;
    const acc = new LogMeanExpAccumulator(1, K);
    const diag = new ImportanceDiagnosticsAccumulator(1, K);
    await streamLogWeights(vae, x, { samples: K, chunk: 500 }, (w, c) => {
      acc.push(w, c);
      diag.push(w, c);
    });
    lambda.dispose();

    let inside = 0;
    for (let k = 0; k < overlay; k++) {
      const a = samples[2 * k]!;
      const b = samples[2 * k + 1]!;
      if (a >= box[0][0] && a <= box[0][1] && b >= box[1][0] && b <= box[1][1]) inside++;
    }
    return {
      dims,
      latentDim: D,
      axes,
      cellArea,
      logJoint,
      logPosterior,
      gridLogPx,
      logQ,
      qSource,
      overlay: samples,
      fixedAt,
      elbo,
      elboSamples,
      logPHat: acc.value()[0]!,
      samples: K,
      ess: diag.ess()[0]!,
      paretoK: diag.paretoK()[0]!,
      samplesInside: inside / overlay,
    };
  } finally {
    x.dispose();
  }
}
