/**
 * The shared 2-D quadrature fixture: a VAE with a FIXED decoder whose exact log p(x) is known by
 * quadrature, for measuring how tight an encoder's bound is (log p(x) − ELBO = KL(q(z|x) ‖ p(z|x))).
 *
 *   z ~ N(0, I₂),   x | z ~ N(f(z), σ²) (one real number per row),
 *   kind 'product': f(z) = z₁·z₂   (default; posterior concentrated on the hyperbola z₁z₂ ≈ x:
 *                                   two curved modes, symmetric under z ↦ −z)
 *   kind 'ring':    f(z) = ‖z‖     (posterior a ring of radius ≈ x)
 *
 *   log p(x) = log ∫ N(x; f(z), σ²) N(z; 0, I) dz, by the midpoint rule on a `grid`×`grid` grid over
 *   [−extent, extent]² (defaults 801, 7), in float64 with log-sum-exp; at σ = 0.25 accurate to
 *   ~1e-11 nats for 'product' and ~1e-6 for 'ring' with x > 0 (the kink of ‖z‖ at 0 slows the rule;
 *   the ring with x < 0 is off by ~1e-2 but has p(x) ≈ e⁻⁴⁹) (checked against a finer grid and prior Monte Carlo in test/plugins/flow-encoder/quadrature-model.test.ts).
 *
 * API
 *   QUADRATURE_LIKELIHOOD                 plugin name of the fixed likelihood ('test-quadrature')
 *   QuadratureLikelihood                  the Likelihood class (no variables; options { kind, sigma })
 *   quadratureModule                      ContainerModule contributing it (pass in `plugins`)
 *   quadratureLogPx(x, model?)            exact log p(x) (number)
 *   quadratureDataset(n, model?, seed?)   n rows drawn from the model (Dataset, binarize 'none')
 *   createQuadratureVae(encoderSpec, { kind?, sigma?, seed?, plugins? })
 *                                         a Vae: latentDim 2, dataDim 1, standard-normal prior, the
 *                                         fixed likelihood; train only the encoder
 *                                         (`train(vae, data, { freeze: ['likelihood', 'prior'], … })`)
 *   measureGaps(vae, data, { samples?, model? })
 *                                         per row: exact log p(x), the ELBO estimated with `samples`
 *                                         draws (default 2000) and its standard error; and the means
 *
 * Example
 *   const model = { kind: 'product', sigma: 0.25 } as const;
 *   const data = quadratureDataset(64, model, 3);
 *   const vae = createQuadratureVae({ type: 'planar', hidden: [32], steps: 8 }, { ...model, seed: 1 });
 *   await train(vae, data, { epochs: 100, batchSize: 64, learningRate: 3e-3, freeze: ['likelihood', 'prior'], progress: false, quiet: true });
 *   const { meanGap } = measureGaps(vae, data, { model });
 */
import { ContainerModule } from 'inversify';
import { z as zod } from 'zod';
import { LOG_2PI, PluginFactory, Random, createVae, definePlugin, tf } from '../../plugins/index.js';
import type { Dataset, Likelihood, NamedVariable, PluginSpec, Vae } from '../../plugins/index.js';

export type QuadratureKind = 'product' | 'ring';

export interface QuadratureModelOptions {
  kind?: QuadratureKind;
  /** Observation noise σ (default 0.25). */
  sigma?: number;
}

export const QUADRATURE_LIKELIHOOD = 'test-quadrature';
const DEFAULTS = { kind: 'product' as QuadratureKind, sigma: 0.25 };

function meanJs(kind: QuadratureKind, z1: number, z2: number): number {
  return kind === 'product' ? z1 * z2 : Math.hypot(z1, z2);
}

/** p(x|z) = N(x; f(z), σ²) with f fixed (see the file comment); x `[B, 1]`, z `[K, B, 2]`. */
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
      const [z1, z2] = tf.split(z, 2, 2);
      if (this.kind === 'product') return tf.mul(z1!, z2!) as tf.Tensor3D;
      return tf.sqrt(tf.add(tf.sum(tf.square(z), -1, true), 1e-12)) as tf.Tensor3D;
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
  description: 'Test fixture: fixed 2-D decoder x ~ N(f(z), σ²) with f = z₁z₂ or ‖z‖',
  options: zod
    .object({ kind: zod.enum(['product', 'ring']).default('product'), sigma: zod.number().positive().default(0.25) })
    .strict(),
  create: (o, ctx) => {
    if (ctx.latentDim !== 2) throw new Error(`${ctx.field}: the quadrature likelihood needs latentDim 2; got ${ctx.latentDim}`);
    return new QuadratureLikelihood(o.kind, o.sigma, ctx.random);
  },
});

/** A user plugin module contributing the fixed likelihood under `QUADRATURE_LIKELIHOOD`. */
export const quadratureModule = new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(quadratureLikelihoodFactory);
});

/** Exact log p(x) by the midpoint rule (see the file comment). */
export function quadratureLogPx(
  x: number,
  model: QuadratureModelOptions = {},
  { grid = 801, extent = 7 }: { grid?: number; extent?: number } = {},
): number {
  const { kind, sigma } = { ...DEFAULTS, ...model };
  const h = (2 * extent) / grid;
  const logTerms = new Float64Array(grid * grid);
  let max = -Infinity;
  const c = -Math.log(2 * Math.PI) - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI) + 2 * Math.log(h);
  for (let i = 0; i < grid; i++) {
    const z1 = -extent + (i + 0.5) * h;
    for (let j = 0; j < grid; j++) {
      const z2 = -extent + (j + 0.5) * h;
      const r = (x - meanJs(kind, z1, z2)) / sigma;
      const v = c - 0.5 * (z1 * z1 + z2 * z2) - 0.5 * r * r;
      logTerms[i * grid + j] = v;
      if (v > max) max = v;
    }
  }
  let s = 0;
  for (let i = 0; i < logTerms.length; i++) s += Math.exp(logTerms[i]! - max);
  return max + Math.log(s);
}

/** n rows x = f(z) + σε with z ~ N(0, I), seeded. */
export function quadratureDataset(n: number, model: QuadratureModelOptions = {}, seed = 1): Dataset {
  const { kind, sigma } = { ...DEFAULTS, ...model };
  const random = new Random(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const z1 = random.gaussian();
    const z2 = random.gaussian();
    x[i] = meanJs(kind, z1, z2) + sigma * random.gaussian();
  }
  return { name: `quadrature-${kind}`, x, rows: n, dim: 1, binarize: 'none' };
}

/** A Vae with the given encoder, a standard-normal prior and the fixed likelihood (latentDim 2, dataDim 1). */
export function createQuadratureVae(
  encoder: PluginSpec,
  { kind = DEFAULTS.kind, sigma = DEFAULTS.sigma, seed = 1, plugins = [] }: QuadratureModelOptions & { seed?: number; plugins?: ContainerModule[] } = {},
): Vae {
  return createVae(
    {
      latentDim: 2,
      dataDim: 1,
      encoder,
      prior: { type: 'standard-normal' },
      likelihood: { type: QUADRATURE_LIKELIHOOD, kind, sigma },
    },
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

/** Exact log p(x) and the ELBO (mean of `samples` log-weights, with its standard error) per row. */
export function measureGaps(
  vae: Vae,
  data: Dataset,
  { samples = 2000, model = {}, seed = 123 }: { samples?: number; model?: QuadratureModelOptions; seed?: number } = {},
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
