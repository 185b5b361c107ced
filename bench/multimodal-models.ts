/**
 * 2-D-latent models with a FIXED decoder and exact log p(x) by quadrature, whose posteriors have
 * different shapes — for measuring what an encoder and an objective can reach (the gap
 * log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)) needs the exact log p(x)):
 *
 *   z ~ N(0, I₂),   x | z ~ N(f(z), σ²), one real number per row,
 *   'two-modes'  f(z) = z₁²        for x ≫ σ: two narrow modes z₁ = ±√x of equal mass, far apart
 *                                  (z₂'s posterior is its prior);
 *   'ring'       f(z) = ‖z‖        a ring of radius ≈ x (no point-like mode);
 *   'banana'     f(z) = z₂ + z₁²   a curved ridge z₂ ≈ x − z₁² (one mode for x ≤ ½; two at its ends above);
 *   'connected'  f(z) = z₁·z₂      two curved modes on the hyperbola z₁z₂ = x, joined through the
 *                                  origin when x is small.
 *
 *   log p(x) = log ∫ N(x; f(z), σ²) N(z; 0, I) dz by the midpoint rule on a `grid`² grid over
 *   [−extent, extent]² (defaults 801, 7) in float64 with log-sum-exp.
 *
 * The likelihood is a plugin (`multimodal-fixed`) with no variables: train the encoder only.
 */
import { ContainerModule } from 'inversify';
import { z as zod } from 'zod';
import { LOG_2PI, PluginFactory, Random, createVae, definePlugin, tf } from '../plugins/index.js';
import type { Dataset, Likelihood, NamedVariable, PluginSpec, Vae } from '../plugins/index.js';

export const MULTIMODAL_KINDS = ['two-modes', 'ring', 'banana', 'connected'] as const;
export type MultimodalKind = (typeof MULTIMODAL_KINDS)[number];
export const MULTIMODAL_LIKELIHOOD = 'multimodal-fixed';

export interface MultimodalModel {
  kind: MultimodalKind;
  /** Observation noise σ. */
  sigma: number;
}

export function meanOf(kind: MultimodalKind, z1: number, z2: number): number {
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
export class MultimodalLikelihood implements Likelihood {
  readonly name = MULTIMODAL_LIKELIHOOD;
  readonly dataDim = 1;

  constructor(
    readonly kind: MultimodalKind,
    readonly sigma: number,
    private readonly random: Random,
  ) {}

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

export const multimodalLikelihoodFactory = definePlugin({
  role: 'likelihood',
  name: MULTIMODAL_LIKELIHOOD,
  description: 'Bench fixture: fixed decoder x ~ N(f(z), σ²) over a 2-D latent with a multimodal, ring or banana posterior',
  options: zod.object({ kind: zod.enum(MULTIMODAL_KINDS), sigma: zod.number().positive() }).strict(),
  create: (o, ctx) => {
    if (ctx.latentDim !== 2) throw new Error(`${ctx.field}: the multimodal likelihood needs latentDim 2; got ${ctx.latentDim}`);
    return new MultimodalLikelihood(o.kind, o.sigma, ctx.random);
  },
});

export const multimodalModule = new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(multimodalLikelihoodFactory);
});

/** Exact log p(x) by the midpoint rule (see the file comment). */
export function multimodalLogPx(x: number, { kind, sigma }: MultimodalModel, { grid = 801, extent = 7 }: { grid?: number; extent?: number } = {}): number {
  const h = (2 * extent) / grid;
  const c = -Math.log(2 * Math.PI) - Math.log(sigma) - 0.5 * LOG_2PI + 2 * Math.log(h);
  const terms = new Float64Array(grid * grid);
  let max = -Infinity;
  for (let i = 0; i < grid; i++) {
    const z1 = -extent + (i + 0.5) * h;
    for (let j = 0; j < grid; j++) {
      const z2 = -extent + (j + 0.5) * h;
      const r = (x - meanOf(kind, z1, z2)) / sigma;
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
export function fixedRows(values: readonly number[], name: string): Dataset {
  return { name, x: Float32Array.from(values), rows: values.length, dim: 1, binarize: 'none' };
}

/** n rows x = f(z) + σε with z ~ N(0, I), seeded, kept only where `keep(x)` (e.g. x > 1 for separated modes). */
export function multimodalDataset(n: number, model: MultimodalModel, seed = 1, keep: (x: number) => boolean = () => true): Dataset {
  const random = new Random(seed);
  const out: number[] = [];
  while (out.length < n) {
    const x = meanOf(model.kind, random.gaussian(), random.gaussian()) + model.sigma * random.gaussian();
    if (keep(x)) out.push(x);
  }
  return fixedRows(out, `multimodal-${model.kind}`);
}

/** A Vae with the given encoder, a standard-normal prior and the fixed likelihood (latentDim 2, dataDim 1). */
export function createMultimodalVae(encoder: PluginSpec, model: MultimodalModel, { seed = 1, plugins = [] }: { seed?: number; plugins?: ContainerModule[] } = {}): Vae {
  return createVae(
    { latentDim: 2, dataDim: 1, encoder, prior: { type: 'standard-normal' }, likelihood: { type: MULTIMODAL_LIKELIHOOD, kind: model.kind, sigma: model.sigma } },
    { plugins: [multimodalModule, ...plugins], seed },
  );
}
