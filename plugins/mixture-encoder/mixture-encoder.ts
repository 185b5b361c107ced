import { tf, Mlp, Dense, LOG_2PI, prefixed } from '../../src/index.js';
import type { Activation, Encoder, EncoderSample, NamedVariable, Random } from '../../src/index.js';

export interface MixtureEncoderOptions {
  hidden: number[];
  activation: Activation;
  /** C, the number of components. */
  components: number;
  /** Root-mean-square of the initial component means (their head biases, centred on 0), so components start apart. */
  spread: number;
}

/** Draws from every component: K per component per row, for the stratified bounds. */
export interface StratifiedSample {
  /** z `[C·K, B, D]`, component-major: rows c·K … c·K + K − 1 are z ~ q_c(z|x). */
  z: tf.Tensor3D;
  /** log q(z|x) of each, the mixture density, `[C·K, B]`. */
  logQ: tf.Tensor2D;
  /** log π_c(x), `[B, C]`. */
  logPi: tf.Tensor2D;
}

/**
 * The component of each draw as a one-hot `[K, B, C]`: c with cdf_{c−1} < u ≤ cdf_c (the inverse CDF
 * of π; cdf_C taken as 2 so rounding cannot leave u past the last one), from log π `[B, C]` and
 * u `[K, B, 1]`. Built from `step`, whose gradient is zero: the discrete choice carries none.
 */
function chooseComponent(logPi: tf.Tensor2D, u: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, c] = logPi.shape;
    const cdf = tf.cumsum(tf.exp(logPi), 1);
    const inner = tf.slice(cdf, [0, 0], [b, c - 1]);
    const upper = tf.concat([inner, tf.fill([b, 1], 2)], 1);
    const lower = tf.concat([tf.zeros([b, 1]), inner], 1);
    return tf.sub(tf.step(tf.sub(u, lower)), tf.step(tf.sub(u, upper))) as tf.Tensor3D;
  });
}

/**
 * Mixture of C diagonal Gaussians,
 *
 *   q(z|x) = Σ_c π_c(x) N(z; μ_c(x), diag σ_c(x)²),   π(x) = softmax(logits(x)),
 *   log q(z|x) = logsumexp_c [log π_c + log N(z; μ_c, σ_c²)]   (exact, stable),
 *
 * all from one MLP h(x) with three heads. λ(x) = [logits (C), μ (C·D), log σ (C·D)], `[B, C(1 + 2D)]`,
 * components c-major (μ_c = λ[C + c·D … C + (c+1)·D)).
 *
 * `sample` draws ancestrally (c ~ Categorical(π), then z = μ_c + σ_c ε): z is reparameterised given
 * c, but the choice of c is discrete, so a bound built on `sample` gets no gradient to π through the
 * choice — train with the stratified bounds (`sampleStratified`, one draw from every component,
 * weighted by π: Morningstar, Vikram, Ham, Gallagher & Dillon, arXiv:2003.01687), which are fully
 * reparameterised. Every draw takes its noise from one `normal([K, B, D + 1])` call (the last
 * column, through Φ, picks c by the inverse CDF of π), so streamed estimates do not depend on the chunking.
 */
export class MixtureEncoder implements Encoder {
  readonly name = 'mixture';
  readonly net: Mlp;
  readonly logitHead: Dense;
  readonly meanHead: Dense;
  readonly logStdHead: Dense;
  readonly components: number;

  constructor(
    readonly dataDim: number,
    readonly latentDim: number,
    options: MixtureEncoderOptions,
    private readonly random: Random,
  ) {
    const c = options.components;
    this.components = c;
    this.net = new Mlp(dataDim, options.hidden, options.activation, random);
    this.logitHead = new Dense(this.net.outputDim, c, random);
    this.meanHead = new Dense(this.net.outputDim, c * latentDim, random);
    this.logStdHead = new Dense(this.net.outputDim, c * latentDim, random);
    if (options.spread > 0) {
      // Component means start apart and centred on 0 (the prior's mean): b_c ~ N(0, I), minus their
      // average over c, scaled to root-mean-square `spread` (for C = 2: two opposite points).
      const d = latentDim;
      const b = new Float64Array(c * d);
      for (let i = 0; i < b.length; i++) b[i] = random.gaussian();
      if (c > 1) {
        for (let j = 0; j < d; j++) {
          let m = 0;
          for (let k = 0; k < c; k++) m += b[k * d + j]! / c;
          for (let k = 0; k < c; k++) b[k * d + j] = b[k * d + j]! - m;
        }
      }
      const rms = Math.sqrt(b.reduce((s2, v) => s2 + v * v, 0) / b.length) || 1;
      const init = Float32Array.from(b, (v) => (options.spread * v) / rms);
      tf.tidy(() => this.meanHead.bias.assign(tf.tensor1d(init)));
    }
  }

  /** Width L = C(1 + 2D) of λ. */
  get paramDim(): number {
    return this.components * (1 + 2 * this.latentDim);
  }

  params(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.net.apply(x);
      return tf.concat([this.logitHead.apply(h), this.meanHead.apply(h), this.logStdHead.apply(h)], 1) as tf.Tensor2D;
    });
  }

  /** λ split: log π `[B, C]` (normalised), μ and log σ `[B, C, D]`. */
  split(lambda: tf.Tensor2D): { logPi: tf.Tensor2D; mean: tf.Tensor3D; logStd: tf.Tensor3D } {
    const c = this.components;
    const d = this.latentDim;
    if (lambda.rank !== 2 || lambda.shape[1] !== this.paramDim) {
      throw new Error(`mixture encoder: expected λ of shape [B, ${this.paramDim}] (C = ${c}, D = ${d}); got [${lambda.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const b = lambda.shape[0];
      const [logits, m, s] = tf.split(lambda, [c, c * d, c * d], 1);
      return {
        logPi: tf.logSoftmax(logits!) as tf.Tensor2D,
        mean: tf.reshape(m!, [b, c, d]) as tf.Tensor3D,
        logStd: tf.reshape(s!, [b, c, d]) as tf.Tensor3D,
      };
    });
  }

  /** log q(z|x) `[K, B]` at z `[K, B, D]` for parameters λ `[B, L]`: the mixture density by log-sum-exp over components. Differentiable in z and λ. */
  logProb(z: tf.Tensor3D, lambda: tf.Tensor2D): tf.Tensor2D {
    const d = this.latentDim;
    if (z.rank !== 3 || z.shape[2] !== d || z.shape[1] !== lambda.shape[0]) {
      throw new Error(`mixture encoder: logProb expected z of shape [K, ${lambda.shape[0]}, ${d}]; got [${z.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const { logPi, mean, logStd } = this.split(lambda);
      const eps = tf.div(tf.sub(tf.expandDims(z, 2), mean), tf.exp(logStd)); // [K, B, C, D]
      const logN = tf.sub(tf.sub(tf.mul(tf.sum(tf.square(eps), -1), -0.5), tf.sum(logStd, -1)), 0.5 * d * LOG_2PI); // [K, B, C]
      return tf.logSumExp(tf.add(logN, logPi), -1) as tf.Tensor2D;
    });
  }

  sampleFromParams(lambda: tf.Tensor2D, samples: number): EncoderSample {
    return tf.tidy(() => {
      const { logPi, mean, logStd } = this.split(lambda);
      const b = lambda.shape[0];
      const d = this.latentDim;
      const noise = this.random.normal<tf.Rank.R3>([samples, b, d + 1]);
      const [eps, e] = tf.split(noise, [d, 1], 2) as [tf.Tensor3D, tf.Tensor3D];
      const u = tf.mul(tf.add(tf.erf(tf.div(e, Math.SQRT2)), 1), 0.5); // Φ(e) ~ U(0, 1), [K, B, 1]
      const onehot = tf.expandDims(chooseComponent(logPi, u as tf.Tensor3D), -1); // [K, B, C, 1]
      const mu = tf.sum(tf.mul(onehot, mean), 2);
      const sd = tf.exp(tf.sum(tf.mul(onehot, logStd), 2));
      const z = tf.add(mu, tf.mul(sd, eps)) as tf.Tensor3D;
      return { z, logQ: this.logProb(z, lambda) } as unknown as tf.TensorContainerObject;
    }) as unknown as EncoderSample;
  }

  sample(x: tf.Tensor2D, samples: number): EncoderSample {
    return tf.tidy(() => this.sampleFromParams(this.params(x), samples) as unknown as tf.TensorContainerObject) as unknown as EncoderSample;
  }

  /** K reparameterised draws from every component of q(z|x) (see `StratifiedSample`). */
  sampleStratified(x: tf.Tensor2D, samples: number, lambda?: tf.Tensor2D): StratifiedSample {
    return tf.tidy(() => {
      const lam = lambda ?? this.params(x);
      const { logPi, mean, logStd } = this.split(lam);
      const b = lam.shape[0];
      const c = this.components;
      const d = this.latentDim;
      const eps = this.random.normal<tf.Rank.R4>([c, samples, b, d]);
      // μ, σ [B, C, D] → [C, 1, B, D]
      const mu = tf.expandDims(tf.transpose(mean, [1, 0, 2]), 1);
      const sd = tf.expandDims(tf.exp(tf.transpose(logStd, [1, 0, 2])), 1);
      const z = tf.reshape(tf.add(mu, tf.mul(sd, eps)), [c * samples, b, d]) as tf.Tensor3D;
      return { z, logQ: this.logProb(z, lam), logPi } as unknown as tf.TensorContainerObject;
    }) as unknown as StratifiedSample;
  }

  /** The mean of the most probable component, `[B, D]` (the mixture's mean can fall between modes). */
  mode(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { logPi, mean } = this.split(this.params(x));
      const onehot = tf.expandDims(tf.oneHot(tf.argMax(logPi, 1), this.components), -1); // [B, C, 1]
      return tf.sum(tf.mul(onehot, mean), 1) as tf.Tensor2D;
    });
  }

  variables(): NamedVariable[] {
    return [
      ...prefixed('net', this.net.variables()),
      ...prefixed('logits', this.logitHead.variables()),
      ...prefixed('mean', this.meanHead.variables()),
      ...prefixed('logStd', this.logStdHead.variables()),
    ];
  }

  dispose(): void {
    this.net.dispose();
    this.logitHead.dispose();
    this.meanHead.dispose();
    this.logStdHead.dispose();
  }
}
