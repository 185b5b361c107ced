import { tf, Mlp, Dense, diagonalNormalLogProb, sampleDiagonalNormal, prefixed, stopGradient, FlowChain } from '../../src/index.js';
import type { Activation, Encoder, EncoderSample, FlowStep, NamedVariable, Random } from '../../src/index.js';
import { ConditionalNet } from './conditional-net.js';

export interface HierarchicalEncoderOptions {
  /** Hidden sizes of the trunk x → h shared by every part. */
  hidden: number[];
  activation: Activation;
  /** Dimension A of the auxiliary variable u. */
  auxDim: number;
  /** Hidden sizes of the nets of q(z|u,x) and r(u|z,x) (their first layer also sees h). */
  auxHidden: number[];
  /**
   * Scale of the initial weights from u into the q(z|u,x) net (× Glorot). Above 1, q(z|x) starts
   * as a visibly non-Gaussian mixture; training on the reverse KL rarely leaves a near-Gaussian start.
   */
  auxInitScale: number;
}

/** The three densities of one (u, z) pair, each `[K, B]`, nats. */
export interface AuxiliaryTerms {
  /** log q(u|x). */
  logQu: tf.Tensor2D;
  /** log q(z|u,x) (including the flow's −Σ log|det| when a flow is used). */
  logQzGivenU: tf.Tensor2D;
  /** log r(u|z,x). */
  logR: tf.Tensor2D;
}

/**
 * Auxiliary-variable hierarchical posterior (Ranganath, Tran & Blei, Hierarchical Variational
 * Models, arXiv:1511.02386; Maaløe et al., Auxiliary Deep Generative Models, arXiv:1602.05473):
 *
 *   q(z|x) = ∫ q(z|u,x) q(u|x) du,   q(u|x) = N(u; μ_u(x), diag σ_u(x)²),
 *   q(z|u,x) = N(z; μ_z(u,x), diag σ_z(u,x)²)  [then optionally a flow f(·; x) on z],
 *
 * a continuous mixture of Gaussians with no closed-form density. The encoder also learns a
 * reverse model r(u|z,x) = N(u; μ_r(z,x), diag σ_r(z,x)²) and reports, for (u, z) ~ q(u, z|x),
 *
 *   logQ = log q(u|x) + log q(z|u,x) − log r(u|z,x).
 *
 * Why the bounds stay valid. Since q(u|x) q(z|u,x) = q(z|x) q(u|z,x),
 *
 *   E_{q(u|z,x)}[logQ] = log q(z|x) + E_{q(u|z,x)}[log q(u|z,x) − log r(u|z,x)]
 *                      = log q(z|x) + KL(q(u|z,x) ‖ r(u|z,x))  ≥  log q(z|x)       (any r),
 *
 * so E[logQ] ≥ E[log q(z|x)], and ELBO_aux = E[log p(x,z) − logQ] = ELBO − E_z KL(q(u|z,x) ‖ r(u|z,x))
 * ≤ ELBO ≤ log p(x), with equality in the first step iff r(u|z,x) = q(u|z,x). For IWAE_K, the
 * weight w = p(x,z) r(u|z,x) / (q(u|x) q(z|u,x)) has E_{q(u,z|x)}[w] = ∫∫ p(x,z) r(u|z,x) du dz
 * = p(x), so by Jensen E[log (1/K) Σ_k w_k] ≤ log p(x): IWAE_K is a lower bound on the extended
 * space (z, u) with target p(x,z) r(u|z,x), and it rises with K as Burda et al. show.
 * The Monte Carlo KL is used (no closed form exists; `posterior` is absent).
 *
 * λ(x) (the amortised parameters re-optimised per point for the amortisation gap) is every
 * quantity computed from x: [μ_u, log σ_u, c_z, c_r (, h)] `[B, 2A + W_z + W_r (+ H)]`, where
 * c_z, c_r are the x-parts of the first layers of the q(z|u,x) and r(u|z,x) nets and h the trunk
 * features (present only with a flow, whose parameters are computed from h). The weights that
 * act on u and z are shared across rows, as the decoder's are.
 *
 * Shapes: x `[B, P]`; z `[K, B, D]`; u `[K, B, A]`; logQ `[K, B]`.
 */
export class HierarchicalEncoder implements Encoder {
  readonly name = 'hierarchical';
  readonly trunk: Mlp;
  readonly auxMean: Dense;
  readonly auxLogStd: Dense;
  /** (u, c_z) → [μ_z, log σ_z]. */
  readonly zNet: ConditionalNet;
  /** (z, c_r) → [μ_r, log σ_r]. */
  readonly reverseNet: ConditionalNet;
  readonly auxDim: number;
  /** The flow on z given u, one composite step (empty: no flow). */
  readonly flowChain: FlowChain;

  constructor(
    readonly dataDim: number,
    readonly latentDim: number,
    options: HierarchicalEncoderOptions,
    private readonly random: Random,
    /** Flow steps on z given u, parameterised from the trunk features h(x) (owned from here on). */
    flow: readonly FlowStep[] = [],
  ) {
    this.flowChain = new FlowChain(flow);
    this.auxDim = options.auxDim;
    this.trunk = new Mlp(dataDim, options.hidden, options.activation, random);
    const h = this.trunk.outputDim;
    this.auxMean = new Dense(h, options.auxDim, random);
    this.auxLogStd = new Dense(h, options.auxDim, random);
    this.zNet = new ConditionalNet(h, options.auxDim, options.auxHidden, options.activation, 2 * latentDim, random, options.auxInitScale);
    this.reverseNet = new ConditionalNet(h, latentDim, options.auxHidden, options.activation, 2 * options.auxDim, random);
  }

  /** The flow's entries (a stacked entry stands for several steps). */
  get flow(): readonly FlowStep[] {
    return this.flowChain.entries;
  }

  /** Width of the trunk features h(x). */
  get featureDim(): number {
    return this.trunk.outputDim;
  }

  /** The block widths of λ, in order: μ_u, log σ_u, c_z, c_r and (with a flow) h. */
  get paramSizes(): number[] {
    const a = this.auxDim;
    const sizes = [a, a, this.zNet.contextWidth, this.reverseNet.contextWidth];
    if (this.flow.length) sizes.push(this.featureDim);
    return sizes;
  }

  /** L, the width of λ. */
  get paramDim(): number {
    return this.paramSizes.reduce((s, n) => s + n, 0);
  }

  params(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.trunk.apply(x);
      const parts = [this.auxMean.apply(h), this.auxLogStd.apply(h), this.zNet.context(h), this.reverseNet.context(h)];
      if (this.flow.length) parts.push(h);
      return tf.concat(parts, 1) as tf.Tensor2D;
    });
  }

  private checkLambda(lambda: tf.Tensor2D): void {
    if (lambda.rank !== 2 || lambda.shape[1] !== this.paramDim) {
      throw new Error(
        `hierarchical encoder: expected λ of shape [B, ${this.paramDim}] (μ_u ${this.auxDim}, log σ_u ${this.auxDim}, ` +
          `c_z ${this.zNet.contextWidth}, c_r ${this.reverseNet.contextWidth}` +
          `${this.flow.length ? `, h ${this.featureDim}` : ''}); got [${lambda.shape.join(', ')}]`,
      );
    }
  }

  /** λ's blocks (call inside a tidy). */
  private split(lambda: tf.Tensor2D): { auxMean: tf.Tensor2D; auxLogStd: tf.Tensor2D; cz: tf.Tensor2D; cr: tf.Tensor2D; h?: tf.Tensor2D } {
    const [auxMean, auxLogStd, cz, cr, h] = tf.split(lambda, this.paramSizes, 1) as tf.Tensor2D[];
    return { auxMean: auxMean!, auxLogStd: auxLogStd!, cz: cz!, cr: cr!, ...(h ? { h } : {}) };
  }

  /** Pushes z₀ through the flow (if any): z and Σ log|det ∂f/∂z|, `[K, B]`. */
  private pushForward(z0: tf.Tensor3D, h: tf.Tensor2D | undefined): { z: tf.Tensor3D; logDet: tf.Tensor2D | null } {
    if (this.flow.length === 0) return { z: z0, logDet: null };
    return this.flowChain.forward(z0, h);
  }

  /** Draws (u, z) ~ q(u|x) q(z|u,x) and scores both; also returns u `[K, B, A]`. */
  sampleWithAuxiliary(lambda: tf.Tensor2D, samples: number): EncoderSample & AuxiliaryTerms & { u: tf.Tensor3D } {
    this.checkLambda(lambda);
    return tf.tidy(() => {
      const p = this.split(lambda);
      const b = lambda.shape[0];
      // One draw for both noises, split per sample: the stream then does not depend on how a
      // caller chunks K (the streamed log-likelihood estimate is chunk-size independent).
      const eps = this.random.normal<tf.Rank.R3>([samples, b, this.auxDim + this.latentDim]);
      const [epsU, epsZ] = tf.split(eps, [this.auxDim, this.latentDim], 2) as [tf.Tensor3D, tf.Tensor3D];
      const { z: u, logQ: logQu } = sampleDiagonalNormal(p.auxMean, p.auxLogStd, epsU) as { z: tf.Tensor3D; logQ: tf.Tensor2D };
      const [zMean, zLogStd] = tf.split(this.zNet.apply(p.cz, u), 2, 2) as [tf.Tensor3D, tf.Tensor3D];
      const sampled = sampleDiagonalNormal(zMean, zLogStd, epsZ);
      const z0 = sampled.z;
      let logQzGivenU = sampled.logQ as tf.Tensor2D;
      const { z, logDet } = this.pushForward(z0, p.h);
      if (logDet) logQzGivenU = tf.sub(logQzGivenU, logDet) as tf.Tensor2D;
      const logR = this.reverseLogProb(p.cr, u, z);
      const logQ = tf.sub(tf.add(logQu, logQzGivenU), logR) as tf.Tensor2D;
      return { z, logQ, u, logQu, logQzGivenU, logR } as unknown as tf.TensorContainerObject;
    }) as unknown as EncoderSample & AuxiliaryTerms & { u: tf.Tensor3D };
  }

  private reverseLogProb(cr: tf.Tensor2D, u: tf.Tensor3D, z: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const [rMean, rLogStd] = tf.split(this.reverseNet.apply(cr, z), 2, 2) as [tf.Tensor3D, tf.Tensor3D];
      return diagonalNormalLogProb(u, rMean, rLogStd) as tf.Tensor2D;
    });
  }

  /**
   * The densities at given points (u, z), `[K, B]` each: log q(u|x), log q(z|u,x), log r(u|z,x).
   * Without a flow only (a flow would need its inverse to score an arbitrary z); used to check
   * the bound by integrating u out numerically.
   */
  densities(lambda: tf.Tensor2D, u: tf.Tensor3D, z: tf.Tensor3D): AuxiliaryTerms {
    if (this.flow.length) throw new Error('hierarchical encoder: densities() at arbitrary z is not available with a flow');
    this.checkLambda(lambda);
    return tf.tidy(() => {
      const p = this.split(lambda);
      const logQu = diagonalNormalLogProb(u, p.auxMean, p.auxLogStd) as tf.Tensor2D;
      const [zMean, zLogStd] = tf.split(this.zNet.apply(p.cz, u), 2, 2) as [tf.Tensor3D, tf.Tensor3D];
      const logQzGivenU = diagonalNormalLogProb(z, zMean, zLogStd) as tf.Tensor2D;
      const logR = this.reverseLogProb(p.cr, u, z);
      return { logQu, logQzGivenU, logR } as unknown as tf.TensorContainerObject;
    }) as unknown as AuxiliaryTerms;
  }

  sampleFromParams(lambda: tf.Tensor2D, samples: number): EncoderSample {
    return tf.tidy(() => {
      const s = this.sampleWithAuxiliary(lambda, samples);
      return { z: s.z, logQ: s.logQ };
    }) as unknown as EncoderSample;
  }

  /**
   * `sampleFromParams` with the score term of q(u, z|x) taken out of logQ's gradient (STL and
   * DReG on the auxiliary bound). The auxiliary bound is an ELBO on the extended space (u, z) with
   * variational q(u|x) q(z|u,x) and target p(x, z) r(u|z,x); STL drops ∂/∂φ log q(u, z|x) at fixed
   * (u, z) — zero in expectation, so the estimator stays unbiased — while r(u|z,x), part of the
   * target, keeps its whole gradient:
   *
   *   logQ = [log q(u|x) + log q(z|u,x)](u, z; φ) − [·](sg u, sg z; φ) + sg([·](sg u, sg z; φ)) − log r(u|z,x).
   *
   * With a flow, log q(z|u,x) at a fixed z goes through the chain's inverse (planar: numerical).
   * The variance then vanishes only where q(u, z|x) equals the extended target's posterior, i.e.
   * r(u|z,x) = q(u|z,x) and q(z|x) = p(z|x).
   */
  samplePathwise(lambda: tf.Tensor2D, samples: number): EncoderSample {
    return tf.tidy(() => {
      const s = this.sampleWithAuxiliary(lambda, samples);
      const p = this.split(lambda);
      const u = stopGradient(s.u);
      const z = stopGradient(s.z);
      const logQu = diagonalNormalLogProb(u, p.auxMean, p.auxLogStd);
      const [zMean, zLogStd] = tf.split(this.zNet.apply(p.cz, u), 2, 2) as [tf.Tensor3D, tf.Tensor3D];
      let logQz: tf.Tensor;
      if (this.flow.length) {
        const back = this.flowChain.inverse(z, p.h);
        logQz = tf.add(diagonalNormalLogProb(back.z, zMean, zLogStd), back.logDet);
      } else {
        logQz = diagonalNormalLogProb(z, zMean, zLogStd);
      }
      const atFixed = tf.add(logQu, logQz);
      const logQ = tf.sub(tf.add(tf.sub(tf.add(s.logQu, s.logQzGivenU), atFixed), stopGradient(atFixed)), s.logR) as tf.Tensor2D;
      return { z: s.z, logQ };
    }) as unknown as EncoderSample;
  }

  sample(x: tf.Tensor2D, samples: number): EncoderSample {
    return tf.tidy(() => this.sampleFromParams(this.params(x), samples) as unknown as tf.TensorContainerObject) as unknown as EncoderSample;
  }

  /** u = μ_u(x), then z = the mean of q(z|u,x) pushed through any flow, `[B, D]`. */
  mode(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const p = this.split(this.params(x));
      const u = tf.expandDims(p.auxMean, 0) as tf.Tensor3D;
      const [zMean] = tf.split(this.zNet.apply(p.cz, u), 2, 2) as [tf.Tensor3D, tf.Tensor3D];
      const { z } = this.pushForward(zMean, p.h);
      return tf.squeeze(z, [0]) as tf.Tensor2D;
    });
  }

  variables(): NamedVariable[] {
    return [
      ...prefixed('net', this.trunk.variables()),
      ...prefixed('auxMean', this.auxMean.variables()),
      ...prefixed('auxLogStd', this.auxLogStd.variables()),
      ...prefixed('z', this.zNet.variables()),
      ...prefixed('reverse', this.reverseNet.variables()),
      ...this.flowVariables(),
    ];
  }

  /** `flow/<i>/…` per step; an entry standing for several steps is `flow/<first>-<last>/…`. */
  private flowVariables(): NamedVariable[] {
    return prefixed('flow', this.flowChain.variables());
  }

  dispose(): void {
    this.trunk.dispose();
    this.auxMean.dispose();
    this.auxLogStd.dispose();
    this.zNet.dispose();
    this.reverseNet.dispose();
    this.flowChain.dispose();
  }
}
