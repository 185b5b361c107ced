import { tf, Mlp, Dense, diagonalNormalLogProb, sampleDiagonalNormal, prefixed, flowStepCount, FlowChain } from '../../src/index.js';
import type { Activation, BuildContext, Encoder, EncoderSample, FlowStep, NamedVariable, Random } from '../../src/index.js';

/** One entry of `steps` in a flow encoder's config: a flow-step plugin spec, repeated `count` times. */
export interface FlowStepSpec {
  type: string;
  count?: number;
  [option: string]: unknown;
}

export interface FlowEncoderOptions {
  hidden: number[];
  activation: Activation;
  /** Step parameters computed from h(x) (true, the papers' choice) or global (false, an ablation). */
  amortized: boolean;
  steps: FlowStepSpec[];
}

/** One step of the config, with the label its errors use (`planar step 3 of 10 (model.encoder.steps[0])`). */
export interface LabelledStep {
  /** The chain entry computing it (a stacked entry stands for several steps). */
  step: FlowStep;
  label: string;
}

/** A non-finite log-det from one step of a flow encoder (a NaN/Inf is an error, never silent). */
export class NonFiniteLogDetError extends Error {
  constructor(
    readonly step: string,
    readonly value: number,
  ) {
    super(`flow encoder: ${step} produced a non-finite log-det (${value}); check its parameters and inputs`);
    this.name = 'NonFiniteLogDetError';
  }
}

/**
 * A flow-enhanced encoder: a diagonal-Gaussian base q₀(z₀|x) = N(μ(x), diag σ(x)²) followed by
 * invertible steps z_k = f_k(z_{k−1}; h(x)), so that (change of variables)
 *
 *   log q(z_K|x) = log q₀(z₀|x) − Σ_k log|det ∂f_k/∂z_{k−1}|.
 *
 * Rezende & Mohamed, arXiv:1505.05770; van den Berg et al., arXiv:1803.05649 (amortised flow
 * parameters). q has no closed form, so `posterior` is left undefined and the bound uses the
 * Monte Carlo KL mean_K(logQ − logPz).
 *
 * λ(x) = [μ, log σ, h(x)] `[B, 2D + C]`, with h the encoder's last hidden layer (C its width) when
 * the steps are amortised and λ = [μ, log σ] `[B, 2D]` when they are global. Each amortised step
 * computes its parameters from h, so optimising λ per data point (the amortisation-gap
 * evaluation) optimises the flow's parameters too.
 *
 * Steps are `flow-step` plugins built by name through `BuildContext.create`, so a user's step
 * (a ContainerModule contributing a `flow-step` factory) can be used from config. A step whose
 * log-det is NaN or ±Inf makes `sampleFromParams` throw `NonFiniteLogDetError` naming the step
 * (one read of a length-(number of steps) vector per call). A factory may return one stacked step
 * for several consecutive steps of a config entry (`StackedFlowStep`, e.g. planar): `flow` runs
 * it as one unit and its weights are named by the range of steps it covers (`steps/0-9/…`;
 * `steps/i/…` for an entry standing for one step), while `steps` and error labels list every step.
 */
export class FlowEncoder implements Encoder {
  readonly net: Mlp;
  readonly meanHead: Dense;
  readonly logStdHead: Dense;
  /** Every step, one entry per step of the config (a stacked entry is listed once per step it stands for). */
  readonly steps: LabelledStep[];
  /** The composite step `flow` runs: steps and stacked steps, in order (together they cover `steps`). */
  readonly flowChain: FlowChain;
  /** Width C of the context h(x) in λ (0 when the steps are global). */
  readonly contextDim: number;

  constructor(
    readonly name: string,
    readonly dataDim: number,
    readonly latentDim: number,
    readonly options: FlowEncoderOptions,
    ctx: BuildContext,
    /** The config field of the i-th entry of `steps`, for errors (default `<field>.steps[i]`). */
    stepField: (i: number) => string = (i) => `${ctx.field}.steps[${i}]`,
  ) {
    this.random = ctx.random;
    this.net = new Mlp(dataDim, options.hidden, options.activation, ctx.random);
    this.meanHead = new Dense(this.net.outputDim, latentDim, ctx.random);
    this.logStdHead = new Dense(this.net.outputDim, latentDim, ctx.random);
    this.contextDim = options.amortized ? this.net.outputDim : 0;
    this.steps = [];
    const chain: FlowStep[] = [];
    const perType = new Map<string, number>();
    try {
      options.steps.forEach((spec, i) => {
        const { count = 1, ...stepSpec } = spec;
        const field = stepField(i);
        for (let j = 0; j < count; ) {
          const index = perType.get(stepSpec.type) ?? 0;
          // Besides D, a step factory gets the context width C (0: global), its index among the
          // steps of its type (RealNVP alternates halves with it) and `stepCount`, the number of
          // consecutive steps of this entry still to build: a factory may return one stacked step
          // standing for several of them (see `StackedFlowStep`); others return a single step.
          const overrides = { latentDim, contextDim: this.contextDim, stepIndex: index, stepCount: count - j };
          const step = ctx.create<FlowStep>('flow-step', stepSpec, field, overrides as Partial<Omit<BuildContext, 'create'>>);
          const n = flowStepCount(step);
          if (!Number.isInteger(n) || n < 1 || n > count - j) {
            step.dispose();
            throw new Error(`flow encoder: the ${stepSpec.type} factory (${field}) returned a step standing for ${n} steps; expected 1 to ${count - j}`);
          }
          chain.push(step);
          for (let m = 0; m < n; m++) this.steps.push({ step, label: `${stepSpec.type} step ${j + m + 1} of ${count} (${field})` });
          perType.set(stepSpec.type, index + n);
          j += n;
        }
      });
    } catch (e) {
      for (const step of chain) step.dispose();
      this.dispose();
      throw e;
    }
    this.flowChain = new FlowChain(chain);
  }

  /** The chain's entries (a stacked entry stands for several steps). */
  get chain(): readonly FlowStep[] {
    return this.flowChain.entries;
  }

  private readonly random: Random;

  /** Length L of λ: 2D + C. */
  get paramsDim(): number {
    return 2 * this.latentDim + this.contextDim;
  }

  params(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.net.apply(x);
      const parts = [this.meanHead.apply(h), this.logStdHead.apply(h)];
      if (this.contextDim > 0) parts.push(h);
      return tf.concat(parts, 1) as tf.Tensor2D;
    });
  }

  /** (μ, log σ, h) from λ; h is undefined for global steps. */
  splitParams(lambda: tf.Tensor2D): { mean: tf.Tensor2D; logStd: tf.Tensor2D; context?: tf.Tensor2D } {
    const d = this.latentDim;
    if (lambda.rank !== 2 || lambda.shape[1] !== this.paramsDim) {
      throw new Error(
        `${this.name} encoder: expected λ of shape [B, ${this.paramsDim}] ([μ (${d}), log σ (${d})${this.contextDim ? `, h (${this.contextDim})` : ''}]); got [${lambda.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      const sizes = this.contextDim > 0 ? [d, d, this.contextDim] : [d, d];
      const [mean, logStd, context] = tf.split(lambda, sizes, 1) as tf.Tensor2D[];
      return (context ? { mean, logStd, context } : { mean, logStd }) as unknown as tf.TensorContainerObject;
    }) as unknown as { mean: tf.Tensor2D; logStd: tf.Tensor2D; context?: tf.Tensor2D };
  }

  /**
   * Pushes z₀ `[K, B, D]` through every step: z_K and the log-det of each step `[K, B, N]`
   * (N = `steps.length`). `context` is h `[B, C]` (omit for global steps).
   */
  flow(z0: tf.Tensor3D, context?: tf.Tensor2D): { z: tf.Tensor3D; logDets: tf.Tensor3D } {
    return this.flowChain.forwardEach(z0, context);
  }

  /** Throws `NonFiniteLogDetError` naming the first step whose log-dets are not all finite (`sums`: per step, `[N]`). */
  private checkFinite(sums: tf.Tensor1D): void {
    const v = sums.dataSync();
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!)) throw new NonFiniteLogDetError(this.steps[i]!.label, v[i]!);
    }
  }

  sampleFromParams(lambda: tf.Tensor2D, samples: number): EncoderSample {
    const { mean, logStd, context } = this.splitParams(lambda);
    try {
      return this.sampleParts(mean, logStd, context, samples);
    } finally {
      tf.dispose([mean, logStd, ...(context ? [context] : [])]);
    }
  }

  /** `sampleFromParams(params(x))` without joining μ, log σ and h into λ and splitting them again (same draws). */
  sample(x: tf.Tensor2D, samples: number): EncoderSample {
    const parts = tf.tidy(() => {
      const h = this.net.apply(x);
      const out = { mean: this.meanHead.apply(h), logStd: this.logStdHead.apply(h) };
      return (this.contextDim > 0 ? { ...out, context: h } : out) as unknown as tf.TensorContainerObject;
    }) as unknown as { mean: tf.Tensor2D; logStd: tf.Tensor2D; context?: tf.Tensor2D };
    try {
      return this.sampleParts(parts.mean, parts.logStd, parts.context, samples);
    } finally {
      tf.dispose([parts.mean, parts.logStd, ...(parts.context ? [parts.context] : [])]);
    }
  }

  private sampleParts(mean: tf.Tensor2D, logStd: tf.Tensor2D, context: tf.Tensor2D | undefined, samples: number): EncoderSample {
    const d = this.latentDim;
    const out = tf.tidy(() => {
      const eps = this.random.normal<tf.Rank.R3>([samples, mean.shape[0], d]);
      const { z: z0, logQ: logQ0 } = sampleDiagonalNormal(mean, logStd, eps);
      if (this.steps.length === 0) return { z: z0, logQ: logQ0 } as unknown as tf.TensorContainerObject;
      const { z, logDets } = this.flow(z0, context);
      const logQ = tf.sub(logQ0, tf.sum(logDets, 2));
      // Per step, the sum over samples and rows: finite iff every log-det of the step is.
      const sums = tf.sum(logDets, [0, 1]);
      return { z, logQ, sums } as unknown as tf.TensorContainerObject;
    }) as unknown as EncoderSample & { sums?: tf.Tensor1D };
    if (out.sums) {
      try {
        this.checkFinite(out.sums);
      } catch (e) {
        tf.dispose([out.z, out.logQ, out.sums]);
        throw e;
      }
      out.sums.dispose();
    }
    return { z: out.z, logQ: out.logQ };
  }

  /**
   * log q(z|x) at given points z `[K, B, D]` for parameters λ, through the chain's inverse:
   * log q(z) = log q₀(f⁻¹(z)) + log|det ∂f⁻¹/∂z|. Exact for steps with a closed-form inverse
   * (RealNVP); planar steps invert numerically (see `PlanarFlow.inverse`); a step without an
   * inverse throws its `NoInverseError`.
   */
  logProb(z: tf.Tensor3D, lambda: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { mean, logStd, context } = this.splitParams(lambda);
      const r = this.flowChain.inverse(z, context);
      return tf.add(diagonalNormalLogProb(r.z, mean, logStd), r.logDet) as tf.Tensor2D;
    });
  }

  mode(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { mean, context } = this.splitParams(this.params(x));
      const { z } = this.flow(tf.expandDims(mean, 0) as tf.Tensor3D, context);
      return tf.squeeze(z, [0]) as tf.Tensor2D;
    });
  }

  variables(): NamedVariable[] {
    return [
      ...prefixed('net', this.net.variables()),
      ...prefixed('mean', this.meanHead.variables()),
      ...prefixed('logStd', this.logStdHead.variables()),
      ...prefixed('steps', this.flowChain.variables()),
    ];
  }

  dispose(): void {
    this.net?.dispose();
    this.meanHead?.dispose();
    this.logStdHead?.dispose();
    // The chain owns the steps.
    this.flowChain?.dispose();
  }
}
