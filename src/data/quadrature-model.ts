/**
 * 2-D-latent models with a FIXED decoder and exact log p(x) by quadrature, whose posteriors have
 * different shapes — for measuring how tight an encoder's bound is (the gap
 * log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)) needs the exact log p(x)). Used by the multimodal bench,
 * the tightness tests and the bound explorer page (browser-safe: no Node import).
 *
 *   z ~ N(0, I₂),   x | z ~ N(f(z), σ²), one real number per row,
 *   'two-modes'  f(z) = z₁²        for x ≫ σ: two narrow modes z₁ = ±√x of equal mass, far apart
 *                                  (z₂'s posterior is its prior);
 *   'ring'       f(z) = ‖z‖        a ring of radius ≈ x (no point-like mode);
 *   'banana'     f(z) = z₂ + z₁²   a curved ridge z₂ ≈ x − z₁² (one mode for x ≤ ½; two at its ends above);
 *   'connected'  f(z) = z₁·z₂      two curved modes on the hyperbola z₁z₂ = x, symmetric under
 *                                  z ↦ −z, joined through the origin when x is small (the default).
 *
 *   log p(x) = log ∫ N(x; f(z), σ²) N(z; 0, I) dz by the midpoint rule on a `grid`² grid over
 *   [−extent, extent]² (defaults 801, 7) in float64 with log-sum-exp; at σ = 0.25 accurate to
 *   ~1e-11 nats for 'connected' and ~1e-6 for 'ring' with x > 0 (the kink of ‖z‖ at 0 slows the
 *   rule; the ring with x < 0 is off by ~1e-2 but has p(x) ≈ e⁻⁴⁹).
 *
 * The likelihood is a plugin (`QUADRATURE_LIKELIHOOD`, contributed by `quadratureModule`) with no
 * variables: train the encoder only (`train(vae, data, { freeze: ['likelihood', 'prior'], … })`).
 *
 *   const model = { kind: 'connected', sigma: 0.25 } as const;
 *   const data = quadratureDataset(64, model, 3);
 *   const vae = createQuadratureVae({ type: 'planar', hidden: [32], steps: 8 }, { ...model, seed: 1 });
 *   await train(vae, data, { epochs: 100, batchSize: 64, learningRate: 3e-3, freeze: ['likelihood', 'prior'], progress: false, quiet: true });
 *   const { meanGap } = measureGaps(vae, data, { model });
 */
import { ContainerModule } from 'inversify';
import { z as zod } from 'zod';
import { tf } from '../core/tf.js';
import { Random } from '../core/random.js';
import { LOG_2PI } from '../core/math.js';
import type { Likelihood } from '../core/likelihood.js';
import type { NamedVariable } from '../core/variables.js';
import type { Vae } from '../core/vae.js';
import { PluginFactory, definePlugin, type PluginSpec } from '../config/plugin.js';
import { createVae } from '../config/create-vae.js';
import type { Dataset } from './dataset.js';

export const QUADRATURE_KINDS = ['two-modes', 'ring', 'banana', 'connected'] as const;
export type QuadratureKind = (typeof QUADRATURE_KINDS)[number];
/** Plugin name of the fixed likelihood. */
export const QUADRATURE_LIKELIHOOD = 'quadrature-fixed';

export interface QuadratureModel {
  kind: QuadratureKind;
  /** Observation noise σ. */
  sigma: number;
}

const DEFAULTS: QuadratureModel = { kind: 'connected', sigma: 0.25 };

/** f(z₁, z₂) of `kind` (see the file comment). */
export function quadratureMean(kind: QuadratureKind, z1: number, z2: number): number {
  switch (kind) {
    case 'two-modes':
      return z1 * z1;
    case 'ring':
      return Math.hypot(z1, z2);
    case 'banana':
      return z2 + z1 * z1;
    case 'connected':
      return z1 * z2;
  }
}

/** p(x|z) = N(x; f(z), σ²) with f fixed by `kind`; x `[B, 1]`, z `[K, B, 2]`. */
export class QuadratureLikelihood implements Likelihood {
  readonly name = QUADRATURE_LIKELIHOOD;
  readonly dataDim = 1;

  constructor(
    readonly kind: QuadratureKind,
    readonly sigma: number,
    private readonly random: Random,
  ) {}

  /** f(z) `[K, B, 1]`. */
  mean(z: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [z1, z2] = tf.split(z, 2, 2) as [tf.Tensor3D, tf.Tensor3D];
      switch (this.kind) {
        case 'two-modes':
          return tf.square(z1);
        case 'ring':
          return tf.sqrt(tf.add(tf.sum(tf.square(z), -1, true), 1e-12)) as tf.Tensor3D;
        case 'banana':
          return tf.add(z2, tf.square(z1)) as tf.Tensor3D;
        case 'connected':
          return tf.mul(z1, z2) as tf.Tensor3D;
      }
    });
  }

  logProb(x: tf.Tensor2D, z: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const r = tf.div(tf.sub(x, this.mean(z)), this.sigma);
      return tf.sub(tf.mul(tf.sum(tf.square(r), -1), -0.5), Math.log(this.sigma) + 0.5 * LOG_2PI) as tf.Tensor2D;
    });
  }

  sample(z: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const m = this.mean(z);
      return tf.add(m, tf.mul(this.random.normal(m.shape), this.sigma)) as tf.Tensor3D;
    });
  }

  variables(): NamedVariable[] {
    return [];
  }

  dispose(): void {}
}

export const quadratureLikelihoodFactory = definePlugin({
  role: 'likelihood',
  name: QUADRATURE_LIKELIHOOD,
  description: 'Fixed decoder x ~ N(f(z), σ²) over a 2-D latent with exact log p(x) by quadrature (two-modes, ring, banana or connected posterior)',
  options: zod.object({ kind: zod.enum(QUADRATURE_KINDS).default(DEFAULTS.kind), sigma: zod.number().positive().default(DEFAULTS.sigma) }).strict(),
  create: (o, ctx) => {
    if (ctx.latentDim !== 2) throw new Error(`${ctx.field}: the quadrature likelihood needs latentDim 2; got ${ctx.latentDim}`);
    return new QuadratureLikelihood(o.kind, o.sigma, ctx.random);
  },
});

/** A user plugin module contributing the fixed likelihood under `QUADRATURE_LIKELIHOOD` (pass it in `plugins`). */
export const quadratureModule = new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(quadratureLikelihoodFactory);
});

/** Exact log p(x) by the midpoint rule (see the file comment); `model` defaults to connected, σ = 0.25. */
export function quadratureLogPx(x: number, model: Partial<QuadratureModel> = {}, { grid = 801, extent = 7 }: { grid?: number; extent?: number } = {}): number {
  const { kind, sigma } = { ...DEFAULTS, ...model };
  const h = (2 * extent) / grid;
  const c = -Math.log(2 * Math.PI) - Math.log(sigma) - 0.5 * LOG_2PI + 2 * Math.log(h);
  const terms = new Float64Array(grid * grid);
  let max = -Infinity;
  for (let i = 0; i < grid; i++) {
    const z1 = -extent + (i + 0.5) * h;
    for (let j = 0; j < grid; j++) {
      const z2 = -extent + (j + 0.5) * h;
      const r = (x - quadratureMean(kind, z1, z2)) / sigma;
      const v = c - 0.5 * (z1 * z1 + z2 * z2) - 0.5 * r * r;
      terms[i * grid + j] = v;
      if (v > max) max = v;
    }
  }
  let s = 0;
  for (let i = 0; i < terms.length; i++) s += Math.exp(terms[i]! - max);
  return max + Math.log(s);
}

/** A data set of the given x values (one per row). */
export function quadratureRows(values: readonly number[], name: string): Dataset {
  return { name, x: Float32Array.from(values), rows: values.length, dim: 1, binarize: 'none' };
}

/** n rows x = f(z) + σε with z ~ N(0, I), seeded, kept only where `keep(x)` (e.g. x > 1 for separated modes). */
export function quadratureDataset(n: number, model: Partial<QuadratureModel> = {}, seed = 1, keep: (x: number) => boolean = () => true): Dataset {
  const { kind, sigma } = { ...DEFAULTS, ...model };
  const random = new Random(seed);
  const out: number[] = [];
  while (out.length < n) {
    const z1 = random.gaussian();
    const z2 = random.gaussian();
    const x = quadratureMean(kind, z1, z2) + sigma * random.gaussian();
    if (keep(x)) out.push(x);
  }
  return quadratureRows(out, `quadrature-${kind}`);
}

/** A Vae with the given encoder, a standard-normal prior and the fixed likelihood (latentDim 2, dataDim 1). */
export function createQuadratureVae(
  encoder: PluginSpec,
  { kind = DEFAULTS.kind, sigma = DEFAULTS.sigma, seed = 1, plugins = [] }: Partial<QuadratureModel> & { seed?: number; plugins?: readonly ContainerModule[] } = {},
): Vae {
  return createVae(
    { latentDim: 2, dataDim: 1, encoder, prior: { type: 'standard-normal' }, likelihood: { type: QUADRATURE_LIKELIHOOD, kind, sigma } },
    { plugins: [quadratureModule, ...plugins], seed },
  );
}

export interface GapReport {
  logPx: Float64Array;
  elbo: Float64Array;
  /** Standard error of each row's ELBO estimate. */
  elboSe: Float64Array;
  meanLogPx: number;
  meanElbo: number;
  /** mean over rows of log p(x) − ELBO, nats. */
  meanGap: number;
}

/**
 * Per row of `data`: the exact log p(x) and the ELBO estimated as the mean of `samples` log-weights
 * log p(x, z) − log q(z|x), z ~ q (drawn with `seed`; the model's random state is restored), with its
 * standard error; and the means over rows.
 */
export function measureGaps(
  vae: Vae,
  data: Dataset,
  { samples = 2000, model = {}, seed = 123 }: { samples?: number; model?: Partial<QuadratureModel>; seed?: number } = {},
): GapReport {
  const n = data.rows;
  const saved = vae.random.getState();
  vae.random.reseed(seed);
  const x = tf.tensor2d(data.x, [n, 1]);
  const logW = vae.logWeights(x, { samples });
  const w = logW.dataSync();
  tf.dispose([x, logW]);
  vae.random.setState(saved);
  const logPx = new Float64Array(n);
  const elbo = new Float64Array(n);
  const elboSe = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    let m = 0;
    for (let k = 0; k < samples; k++) m += w[k * n + b]!;
    m /= samples;
    let v = 0;
    for (let k = 0; k < samples; k++) v += (w[k * n + b]! - m) ** 2;
    elbo[b] = m;
    elboSe[b] = Math.sqrt(v / (samples - 1) / samples);
    logPx[b] = quadratureLogPx(data.x[b]!, model);
  }
  const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
  return { logPx, elbo, elboSe, meanLogPx: mean(logPx), meanElbo: mean(elbo), meanGap: mean(logPx) - mean(elbo) };
}
