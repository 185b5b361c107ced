import { inject, injectable, multiInject, optional } from 'inversify';
import { tf } from './tf.js';
import { Encoder, type EncoderSample } from './encoder.js';
import { Prior } from './prior.js';
import { Likelihood } from './likelihood.js';
import { KlRule, findKlRule } from './kl-rule.js';
import { logMeanExp, stopGradient } from './math.js';
import { ObjectiveBuilder, type Objective } from './objective.js';
import { Random } from './random.js';
import { checkFiniteRows, checkLive, checkPositiveInt, checkTensorSize } from './checks.js';
import { prefixed, type NamedVariable } from './variables.js';
import type { Posterior } from './posterior.js';
import { SAMPLE_COUNT_HINTS, checkOptionKeys, optionKeys } from './option-keys.js';

/** The model section of a config, as the Vae was built from it (kept for saving). */
export const ModelSpec = Symbol.for('vaekit.ModelSpec');
export interface ModelSpec {
  latentDim: number;
  dataDim: number;
  encoder: { type: string; [k: string]: unknown };
  prior: { type: string; [k: string]: unknown };
  likelihood: { type: string; [k: string]: unknown };
}

/** The pieces of the bound for K samples per row, all `[K, B]` but z `[K, B, D]`. */
export interface BoundTerms {
  z: tf.Tensor3D;
  logQ: tf.Tensor2D;
  logPz: tf.Tensor2D;
  logPxGivenZ: tf.Tensor2D;
  posterior?: Posterior;
}

export interface ElboResult {
  /** reconstruction − β·kl per row, `[B]`; with β = 1 the evidence lower bound. */
  elbo: tf.Tensor1D;
  /** mean_K log p(x|z), `[B]`. */
  reconstruction: tf.Tensor1D;
  /** KL(q(z|x) ‖ p(z)) per row, `[B]`: closed form when `klExact`, else mean_K(logQ − logPz). */
  kl: tf.Tensor1D;
  klExact: boolean;
}

export interface BoundOptions {
  /** K, samples per row. */
  samples?: number;
  /** Use these encoder parameters λ `[B, L]` instead of `encoder.params(x)` (non-amortised q). */
  lambda?: tf.Tensor2D;
}

export interface TermsOptions extends BoundOptions {
  /**
   * Keep only the path derivative of logQ (the one STL and DReG use): its gradient w.r.t. the
   * encoder's weights flows through z alone, the score term ∂/∂φ log q(z; φ) at fixed z removed
   * (computed with `encoder.logProb(z, λ)` at z held fixed, or by the encoder's own
   * `samplePathwise`); its values are the sampled logQ's (up to float rounding). Needs an encoder
   * with one of the two.
   */
  stopEncoderParams?: boolean;
}

/** The three roles whose weights a Vae holds; weights are named `<part>/…`. */
export const PARTS = ['encoder', 'likelihood', 'prior'] as const;
export type Part = (typeof PARTS)[number];

/** Old part names, with the new name to write instead (`decoder`: the likelihood's part, whose weights are now `likelihood/…`). */
export const RENAMED_PARTS: Readonly<Record<string, Part>> = { decoder: 'likelihood' };

/**
 * Throws unless every entry of `parts` is a part name, naming the field, the entry and the
 * choices (with the new name for an old one: `"decoder"` → `"likelihood"`).
 */
export function checkParts(field: string, parts: unknown): asserts parts is readonly Part[] {
  const bad = Array.isArray(parts) ? parts.find((p) => !(PARTS as readonly unknown[]).includes(p)) : parts;
  if (Array.isArray(parts) && bad === undefined) return;
  const renamed = typeof bad === 'string' ? RENAMED_PARTS[bad] : undefined;
  const hint = renamed ? ` ("${bad}" is now "${renamed}")` : '';
  throw new TypeError(`${field}: expected a list of parts: ${PARTS.map((p) => `"${p}"`).join(', ')}${hint}; got ${JSON.stringify(Array.isArray(parts) ? bad : parts)}`);
}

/**
 * The current name of a weight saved under an older name: the likelihood's weights were named
 * `decoder/…` and are `likelihood/…` (`loadVae` reads models saved either way).
 */
export function currentWeightName(name: string): string {
  return name.startsWith('decoder/') ? `likelihood/${name.slice('decoder/'.length)}` : name;
}

/**
 * A VAE assembled from the three roles and nothing else: q_φ(z|x) (Encoder), p(z) (Prior)
 * and p_θ(x|z) (Likelihood).
 *
 *   log p(x) ≥ E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) = ELBO,   log p(x) − ELBO = KL(q(z|x) ‖ p(z|x))
 *   log p(x) ≥ E[log (1/K) Σ_k p(x, z_k)/q(z_k|x)] = IWAE_K ≥ ELBO   (Burda et al., arXiv:1509.00519)
 *
 * The KL term uses a registered closed-form rule when one matches the (posterior, prior)
 * pair and the Monte Carlo estimate mean_K(logQ − logPz) otherwise; `klExact` says which.
 * All values are nats per data point. Every tensor-returning method runs in `tf.tidy`.
 */
@injectable()
export class Vae {
  private readonly rules: KlRule[];
  #disposed = false;

  constructor(
    @inject(Encoder) readonly encoder: Encoder,
    @inject(Prior) readonly prior: Prior,
    @inject(Likelihood) readonly likelihood: Likelihood,
    @inject(Random) readonly random: Random,
    @inject(ModelSpec) readonly spec: ModelSpec,
    @multiInject(KlRule) @optional() rules: KlRule[] = [],
    @inject(ObjectiveBuilder) @optional() private readonly buildObjective?: ObjectiveBuilder,
  ) {
    this.rules = rules ?? [];
  }

  /**
   * Builds a training objective from its config spec (`{ "type": "iwae", "samples": 10 }`) with
   * the objective plugins of this Vae's container; `field` names the spec in errors.
   */
  objective(spec: unknown, field = 'train.objective'): Objective {
    if (!this.buildObjective) throw new Error(`${field}: this Vae was not built by createVae, so it has no objective registry; pass a built Objective instead`);
    return this.buildObjective(spec, field);
  }

  get latentDim(): number {
    return this.encoder.latentDim;
  }

  get dataDim(): number {
    return this.likelihood.dataDim;
  }

  /** True after `dispose()`: the model's weights are gone and every method throws. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** Throws a clear error once the model has been disposed (tfjs would fail reading `backend` of a freed weight). */
  checkLive(): void {
    if (this.#disposed) throw new Error('Vae: the model has been disposed (its weights are freed); build or load it again');
  }

  /**
   * Throws a clear error unless x is a live `[B, P]` tensor of finite values, P the likelihood's
   * width. The finiteness check reads B flags from the backend unless x is a batch made from a
   * checked data set (`markFinite`), so the training and evaluation loops never wait on it.
   */
  checkInput(x: tf.Tensor, what = 'x'): asserts x is tf.Tensor2D {
    this.checkLive();
    if (x === null || typeof x !== 'object' || typeof (x as { rank?: unknown }).rank !== 'number') {
      throw new Error(`${what}: expected a [B, ${this.dataDim}] tensor; got ${x === null ? 'null' : typeof x}`);
    }
    checkLive(x, what);
    if (x.rank !== 2 || x.shape[1] !== this.dataDim) {
      throw new Error(`${what}: expected a [B, ${this.dataDim}] tensor; got shape [${x.shape.join(', ')}]`);
    }
    checkFiniteRows(x as tf.Tensor2D, what);
  }

  /** K samples per row of B rows: a positive integer whose [K, B, max(P, D)] tensors fit in memory. */
  private checkSamples(k: number, rows: number): void {
    checkPositiveInt('samples', k);
    checkTensorSize(`samples: ${k} samples × ${rows} rows`, [k, rows, Math.max(this.dataDim, this.latentDim)]);
  }

  /** The z block the likelihood sees (the first latent block of a two-level hierarchy; all of z otherwise). */
  decoderInput(z: tf.Tensor3D): tf.Tensor3D {
    const sizes = this.encoder.latentSizes;
    if (!sizes || sizes.length <= 1) return z;
    const [k, b] = z.shape;
    return tf.slice(z, [0, 0, 0], [k, b, sizes[0]!]);
  }

  /** Samples q and scores them: z, logQ, logPz, logPxGivenZ. */
  terms(x: tf.Tensor2D, options: TermsOptions = {}): BoundTerms {
    return this.scoredSamples(x, options, true) as BoundTerms;
  }

  /** `terms`, with logPz only when `withPrior` (the ELBO with a closed-form KL does not use it). */
  private scoredSamples(x: tf.Tensor2D, { samples = 1, lambda, stopEncoderParams = false }: TermsOptions, withPrior: boolean): Omit<BoundTerms, 'logPz'> & { logPz?: tf.Tensor2D } {
    this.checkInput(x);
    this.checkSamples(samples, x.shape[0]);
    if (lambda) checkLive(lambda, 'lambda');
    const encoder = this.encoder;
    if (stopEncoderParams && !encoder.logProb && !encoder.samplePathwise) {
      throw new Error(`encoder "${encoder.name}" has no logProb(z, λ) nor samplePathwise: it cannot score samples with its parameters held fixed (needed by the stl and dreg estimators)`);
    }
    return tf.tidy(() => {
      let s: EncoderSample;
      let logQ: tf.Tensor2D;
      if (stopEncoderParams) {
        // log q(z(φ); φ) − log q(sg z; φ) + sg(log q(sg z; φ)): the value of log q, and the
        // gradient of the first term less its score part ∂/∂φ log q(z; φ) at fixed z — the path
        // derivative only, for every encoder weight (those inside λ and those, like a flow's
        // heads, outside it).
        const params = lambda ?? encoder.params(x);
        if (encoder.samplePathwise) {
          s = encoder.samplePathwise(params, samples);
          logQ = s.logQ;
        } else {
          s = encoder.sampleFromParams(params, samples);
          const atFixed = encoder.logProb!(stopGradient(s.z), params);
          logQ = tf.add(tf.sub(s.logQ, atFixed), stopGradient(atFixed)) as tf.Tensor2D;
        }
      } else {
        s = lambda ? encoder.sampleFromParams(lambda, samples) : encoder.sample(x, samples);
        logQ = s.logQ;
      }
      const logPxGivenZ = this.likelihood.logProb(x, this.decoderInput(s.z));
      const out: Omit<BoundTerms, 'logPz'> & { logPz?: tf.Tensor2D } = { z: s.z, logQ, logPxGivenZ };
      if (withPrior) out.logPz = this.prior.logProb(s.z);
      if (s.posterior) out.posterior = s.posterior;
      return out as unknown as tf.TensorContainerObject;
    }) as unknown as Omit<BoundTerms, 'logPz'> & { logPz?: tf.Tensor2D };
  }

  /** The ELBO per row (see the class comment); `beta` weights the KL for training. */
  elbo(x: tf.Tensor2D, options: BoundOptions & { beta?: number; analyticKl?: boolean } = {}): ElboResult {
    checkOptionKeys('elbo', options, ['samples', 'lambda', 'beta', 'analyticKl'], SAMPLE_COUNT_HINTS);
    const { samples = 1, beta = 1, lambda, analyticKl = true } = options;
    this.checkInput(x);
    this.checkSamples(samples, x.shape[0]);
    if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) {
      throw new Error(`beta: expected a finite number ≥ 0 (the weight of the KL term); got ${typeof beta === 'number' ? beta : JSON.stringify(beta)}`);
    }
    let klExact = false;
    const r = tf.tidy(() => {
      // Sampled without log p(z) when the KL has a closed form (it is not used then).
      const t = this.scoredSamples(x, { samples, ...(lambda ? { lambda } : {}) }, false);
      // With one sample the mean over K is that sample's value (a reshape: one op less forward and three backward).
      const reconstruction = (samples === 1 ? tf.reshape(t.logPxGivenZ, [x.shape[0]]) : tf.mean(t.logPxGivenZ, 0)) as tf.Tensor1D;
      const rule = analyticKl ? findKlRule(this.rules, t.posterior, this.prior) : undefined;
      klExact = rule !== undefined;
      const kl = rule ? rule.kl(t.posterior!, this.prior) : (tf.mean(tf.sub(t.logQ, this.prior.logProb(t.z)), 0) as tf.Tensor1D);
      const elbo = tf.sub(reconstruction, beta === 1 ? kl : tf.mul(kl, beta)) as tf.Tensor1D;
      return { elbo, reconstruction, kl };
    });
    return { ...r, klExact };
  }

  /** IWAE_K per row: log (1/K) Σ_k exp(logPxGivenZ + logPz − logQ), `[B]`. */
  iwae(x: tf.Tensor2D, options: BoundOptions = {}): tf.Tensor1D {
    checkOptionKeys('iwae', options, optionKeys<BoundOptions>()('samples', 'lambda'), SAMPLE_COUNT_HINTS);
    const { samples = 1, lambda } = options;
    return tf.tidy(() => {
      const t = this.terms(x, { samples, ...(lambda ? { lambda } : {}) });
      const logW = tf.sub(tf.add(t.logPxGivenZ, t.logPz), t.logQ);
      return logMeanExp(logW, 0) as tf.Tensor1D;
    });
  }

  /** log w = log p(x, z) − log q(z|x) for K samples per row, `[K, B]` (importance weights). */
  logWeights(x: tf.Tensor2D, options: BoundOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const t = this.terms(x, options);
      return tf.sub(tf.add(t.logPxGivenZ, t.logPz), t.logQ) as tf.Tensor2D;
    });
  }

  /** A point summary of q(z|x) per row, `[B, D]`. */
  encode(x: tf.Tensor2D): tf.Tensor2D {
    this.checkInput(x);
    return tf.tidy(() => this.encoder.mode(x));
  }

  /** E[x|z] at the encoder's point summary of z, `[B, P]`. */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    this.checkInput(x);
    return tf.tidy(() => {
      const z = tf.expandDims(this.encoder.mode(x), 0) as tf.Tensor3D;
      return tf.squeeze(this.likelihood.mean(this.decoderInput(z)), [0]) as tf.Tensor2D;
    });
  }

  /** n new data points: z ~ p(z), then E[x|z] (or a draw of x when `draw`), `[n, P]`. */
  sample(n: number, { draw = false }: { draw?: boolean } = {}): tf.Tensor2D {
    this.checkLive();
    checkPositiveInt('n', n);
    checkTensorSize(`sample: ${n} samples`, [n, Math.max(this.dataDim, this.latentDim)]);
    return tf.tidy(() => {
      const z = tf.expandDims(this.prior.sample(n), 0) as tf.Tensor3D;
      const zd = this.decoderInput(z);
      const x = draw ? this.likelihood.sample(zd) : this.likelihood.mean(zd);
      return tf.squeeze(x, [0]) as tf.Tensor2D;
    });
  }

  /** Trainable variables with stable names: `encoder/…`, `likelihood/…`, `prior/…`. */
  variables(parts: readonly Part[] = PARTS): NamedVariable[] {
    this.checkLive();
    checkParts('variables', parts);
    const out: NamedVariable[] = [];
    if (parts.includes('encoder')) out.push(...prefixed('encoder', this.encoder.variables()));
    if (parts.includes('likelihood')) out.push(...prefixed('likelihood', this.likelihood.variables()));
    if (parts.includes('prior')) out.push(...prefixed('prior', this.prior.variables()));
    return out;
  }

  /** Current weights by name (the variables themselves: read, do not dispose). */
  getWeights(): Record<string, tf.Variable> {
    return Object.fromEntries(this.variables().map((v) => [v.name, v.variable]));
  }

  /** Assigns weights by name; every name must exist with the same shape. Missing names keep their values unless `strict`. */
  setWeights(weights: Record<string, tf.Tensor>, { strict = true }: { strict?: boolean } = {}): void {
    const mine = this.getWeights();
    for (const [name, t] of Object.entries(weights)) {
      checkLive(t, `setWeights: "${name}"`);
      const v = mine[name];
      if (!v) throw new Error(`setWeights: no weight named "${name}"; known: ${Object.keys(mine).join(', ')}`);
      if (v.shape.join(',') !== t.shape.join(',')) {
        throw new Error(`setWeights: "${name}" expected shape [${v.shape.join(', ')}]; got [${t.shape.join(', ')}]`);
      }
    }
    if (strict) {
      const missing = Object.keys(mine).filter((n) => !(n in weights));
      if (missing.length) throw new Error(`setWeights: missing weights ${missing.join(', ')}`);
    }
    for (const [name, t] of Object.entries(weights)) mine[name]!.assign(t);
  }

  /** Number of scalar parameters, total or by part. */
  parameterCount(parts?: readonly Part[]): number {
    return this.variables(parts).reduce((n, v) => n + v.variable.size, 0);
  }

  /** Frees the weights; a second call does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.encoder.dispose();
    this.prior.dispose();
    this.likelihood.dispose();
  }
}
