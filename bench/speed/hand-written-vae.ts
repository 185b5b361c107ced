import { Random, tf } from '../../plugins/index.js';
import { DIM, LATENT } from './data.js';

/** The hand-written diag-Gaussian/Bernoulli VAE a tfjs user would write: variables, matMul, Adam. */
export class HandWrittenVae {
  private readonly layers: { w: tf.Variable; b: tf.Variable }[];
  readonly optimizer = tf.train.adam(1e-3);

  constructor(seed: number) {
    const random = new Random(seed);
    const dense = (i: number, o: number) => {
      const lim = Math.sqrt(6 / (i + o));
      const w = new Float32Array(i * o).map(() => (2 * random.uniform() - 1) * lim);
      return tf.tidy(() => ({ w: tf.variable(tf.tensor2d(w, [i, o])), b: tf.variable(tf.zeros([o])) }));
    };
    // encoder 784-200-200 → (μ, log σ) 50 each; decoder 50-200-200-784.
    this.layers = [dense(DIM, 200), dense(200, 200), dense(200, LATENT), dense(200, LATENT), dense(LATENT, 200), dense(200, 200), dense(200, DIM)];
  }

  private apply(i: number, x: tf.Tensor): tf.Tensor {
    const l = this.layers[i]!;
    return tf.add(tf.matMul(x as tf.Tensor2D, l.w as tf.Tensor2D), l.b);
  }

  /** −ELBO: reparameterised z, Bernoulli log-likelihood from logits, closed-form KL. */
  loss(x: tf.Tensor2D): tf.Scalar {
    const h = tf.tanh(this.apply(1, tf.tanh(this.apply(0, x))));
    const mu = this.apply(2, h);
    const logStd = this.apply(3, h);
    const z = tf.add(mu, tf.mul(tf.exp(logStd), tf.randomNormal(mu.shape)));
    const logits = this.apply(6, tf.tanh(this.apply(5, tf.tanh(this.apply(4, z)))));
    const rec = tf.neg(tf.sum(tf.losses.sigmoidCrossEntropy(x, logits, undefined, 0, tf.Reduction.NONE), 1));
    const kl = tf.mul(0.5, tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(tf.mul(2, logStd))), tf.add(1, tf.mul(2, logStd))), 1));
    return tf.neg(tf.mean(tf.sub(rec, kl))) as tf.Scalar;
  }

  dispose(): void {
    for (const l of this.layers) tf.dispose([l.w, l.b]);
    this.optimizer.dispose();
  }
}
