/**
 * The bound explorer's training run, without the page (Node runs the same code to compare speed):
 * an encoder trained on a few observed x of a 2-D quadrature model (fixed decoder, exact log p(x)),
 * measured every `every` steps per x:
 *
 *   ELBO      = mean_s log w_s,                       w_s = p(x, z_s) / q(z_s|x),  z_s ~ q(z|x)
 *   IWAE_K    = mean over groups of K of log mean_k w_k
 *   log p̂(x) = log mean_s w_s (all S draws)
 *   exact log p(x) by quadrature, so log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)) is the gap shown.
 *
 * S = `evalSamples` draws from a fixed seed at every measurement (the training noise is untouched).
 */
import { createQuadratureVae, quadratureLogPx, quadratureRows, tf, train, type PluginSpec, type QuadratureKind, type Vae } from 'vaekit';

export const ENCODERS: Record<string, { label: string; spec: PluginSpec }> = {
  gaussian: { label: 'diagonal Gaussian', spec: { type: 'gaussian', hidden: [32, 32] } },
  planar: { label: 'planar flow ×8', spec: { type: 'planar', hidden: [32, 32], steps: 8 } },
  realnvp: { label: 'RealNVP ×4', spec: { type: 'realnvp', hidden: [32, 32], couplings: 4 } },
  hierarchical: { label: 'hierarchical (auxiliary u)', spec: { type: 'hierarchical', hidden: [32, 32], auxHidden: [32] } },
  mixture: { label: 'mixture of 2 Gaussians', spec: { type: 'mixture', hidden: [32, 32], components: 2 } },
};

/** The objectives and the gradient estimators each accepts (`samples` is K). */
export const OBJECTIVES: Record<string, { label: string; gradients: string[]; mixtureOnly?: boolean }> = {
  elbo: { label: 'ELBO', gradients: ['reparam', 'stl'] },
  iwae: { label: 'IWAE_K', gradients: ['reparam', 'stl', 'dreg'] },
  'stratified-elbo': { label: 'stratified ELBO (mixture)', gradients: [], mixtureOnly: true },
  'stratified-iwae': { label: 'stratified IWAE_K (mixture)', gradients: [], mixtureOnly: true },
};

/** The observed x of each model and the box its posterior is drawn in. */
export const CASES: Record<QuadratureKind, { xs: number[]; box: { x: [number, number]; y: [number, number] } }> = {
  'two-modes': { xs: [1.2, 2.5, 4], box: { x: [-2.6, 2.6], y: [-3, 3] } },
  ring: { xs: [0.8, 2, 3], box: { x: [-3.5, 3.5], y: [-3.5, 3.5] } },
  banana: { xs: [-0.5, 0.2, 2], box: { x: [-3, 3], y: [-3.5, 2.5] } },
  connected: { xs: [0.3, 1, 2], box: { x: [-3, 3], y: [-3, 3] } },
};

export interface ExplorerSettings {
  kind: QuadratureKind;
  sigma: number;
  encoder: string;
  objective: string;
  /** K of the objective. */
  samples: number;
  gradient: string;
  steps: number;
  learningRate: number;
  /** Measure every this many steps. */
  every: number;
  seed: number;
  /** S, draws per x for the measurements (default 2000). */
  evalSamples?: number;
}

export const DEFAULT_SETTINGS: ExplorerSettings = {
  kind: 'two-modes',
  sigma: 0.25,
  encoder: 'gaussian',
  objective: 'elbo',
  samples: 1,
  gradient: 'reparam',
  steps: 600,
  learningRate: 0.01,
  every: 20,
  seed: 1,
};

/** Measurements at one step, one entry per observed x. */
export interface Measurement {
  step: number;
  elbo: number[];
  iwae: number[];
  logPHat: number[];
}

export interface ExplorerRun {
  settings: ExplorerSettings;
  xs: number[];
  exactLogPx: number[];
  /** K of the IWAE_K curve: the objective's K when it is an importance-weighted one with K > 1, else 10. */
  iwaeK: number;
  history: Measurement[];
  /** Steps taken and seconds spent taking them (measurements and drawing excluded). */
  steps: number;
  trainSeconds: number;
  vae: Vae;
}

function logMeanExp(a: ArrayLike<number>, from: number, to: number, stride: number, offset: number): number {
  let m = -Infinity;
  for (let k = from; k < to; k++) m = Math.max(m, a[k * stride + offset]!);
  let s = 0;
  for (let k = from; k < to; k++) s += Math.exp(a[k * stride + offset]! - m);
  return m + Math.log(s / (to - from));
}

/** ELBO, IWAE_K and log p̂(x) per row of x from S fixed-seed draws (see the file comment). */
export function measure(vae: Vae, x: tf.Tensor2D, iwaeK: number, evalSamples: number, step: number): Measurement {
  const saved = vae.random.getState();
  vae.random.reseed(90210);
  const logW = vae.logWeights(x, { samples: evalSamples });
  const w = logW.dataSync();
  logW.dispose();
  vae.random.setState(saved);
  const B = x.shape[0];
  const out: Measurement = { step, elbo: [], iwae: [], logPHat: [] };
  const groups = Math.floor(evalSamples / iwaeK);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let k = 0; k < evalSamples; k++) s += w[k * B + b]!;
    out.elbo.push(s / evalSamples);
    let iw = 0;
    for (let g = 0; g < groups; g++) iw += logMeanExp(w, g * iwaeK, (g + 1) * iwaeK, B, b);
    out.iwae.push(iw / groups);
    out.logPHat.push(logMeanExp(w, 0, evalSamples, B, b));
  }
  return out;
}

/** The objective spec of the settings (`{ type, samples, gradient? }`). */
export function objectiveSpec(s: ExplorerSettings): { type: string; samples: number; gradient?: string } {
  const o = OBJECTIVES[s.objective];
  if (!o) throw new Error(`objective: expected one of ${Object.keys(OBJECTIVES).join(', ')}; got ${JSON.stringify(s.objective)}`);
  return { type: s.objective, samples: s.samples, ...(o.gradients.length && s.gradient !== 'reparam' ? { gradient: s.gradient } : {}) };
}

/** Stops a run from `onMeasure` (caught by `runExplorer`, which then returns what it has). */
export class StopRun extends Error {}

/**
 * Trains per the settings, calling `onMeasure(run)` after each measurement (step 0, every
 * `every` steps and the last); `onMeasure` may throw `StopRun` to end early. The caller disposes `run.vae`.
 */
export async function runExplorer(s: ExplorerSettings, onMeasure?: (run: ExplorerRun) => void | Promise<void>): Promise<ExplorerRun> {
  const encoder = ENCODERS[s.encoder];
  if (!encoder) throw new Error(`encoder: expected one of ${Object.keys(ENCODERS).join(', ')}; got ${JSON.stringify(s.encoder)}`);
  const xs = CASES[s.kind].xs;
  const data = quadratureRows(xs, s.kind);
  const objective = objectiveSpec(s);
  const vae = createQuadratureVae(encoder.spec, { kind: s.kind, sigma: s.sigma, seed: s.seed });
  const iwaeK = s.objective.endsWith('iwae') && s.samples > 1 ? s.samples : 10;
  const evalSamples = s.evalSamples ?? 2000;
  const run: ExplorerRun = {
    settings: s,
    xs,
    exactLogPx: xs.map((x) => quadratureLogPx(x, { kind: s.kind, sigma: s.sigma })),
    iwaeK,
    history: [],
    steps: 0,
    trainSeconds: 0,
    vae,
  };
  const x = tf.tensor2d(data.x, [data.rows, 1]);
  let started = performance.now();
  const record = async (step: number) => {
    const t = performance.now();
    run.trainSeconds += (t - started) / 1000;
    run.steps = step;
    run.history.push(measure(vae, x, iwaeK, evalSamples, step));
    try {
      await onMeasure?.(run);
    } finally {
      started = performance.now();
    }
  };
  try {
    await record(0);
    await train(vae, data, {
      epochs: s.steps,
      batchSize: data.rows,
      learningRate: s.learningRate,
      objective,
      freeze: ['likelihood', 'prior'],
      seed: s.seed,
      quiet: true,
      progress: false,
      onEpochEnd: async (r) => {
        if (r.epoch % s.every === 0 || r.epoch === s.steps) await record(r.epoch);
      },
    });
  } catch (e) {
    if (!(e instanceof StopRun)) {
      x.dispose();
      vae.dispose();
      throw e;
    }
  }
  x.dispose();
  return run;
}
