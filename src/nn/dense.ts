import { tf } from '../core/tf.js';
import type { Random } from '../core/random.js';
import { checkTensorSize } from '../core/checks.js';
import type { NamedVariable, Parametrised } from '../core/variables.js';
import { matMul } from './mat-mul.js';

export interface DenseOptions {
  /** Initial weights: Glorot-uniform (default) or all zeros (for residual/flow heads that start at the identity). */
  init?: 'glorot' | 'zeros';
  /** Initial bias value. */
  bias?: number;
  trainable?: boolean;
}

/**
 * y = x·W + b, W `[in, out]` (`kernel`), b `[out]` (`bias`). Weights are drawn from the seeded
 * `Random`, so a seed gives the same network on every backend. Accepts `[N, in]` or
 * `[K, B, in]` (flattened to `[K·B, in]` and back).
 */
export class Dense implements Parametrised {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    random: Random,
    { init = 'glorot', bias = 0, trainable = true }: DenseOptions = {},
  ) {
    const w = new Float32Array(checkTensorSize('a dense layer', [inDim, outDim]));
    if (init === 'glorot') {
      const limit = Math.sqrt(6 / (inDim + outDim));
      for (let i = 0; i < w.length; i++) w[i] = (2 * random.uniform() - 1) * limit;
    }
    // tidy disposes the initial values (variables survive it), so a layer holds exactly two tensors.
    this.kernel = tf.tidy(() => tf.variable(tf.tensor2d(w, [inDim, outDim]), trainable));
    this.bias = tf.tidy(() => tf.variable(tf.fill([outDim], bias), trainable));
  }

  apply<T extends tf.Tensor2D | tf.Tensor3D>(x: T): T {
    return tf.tidy(() => {
      if (x.rank === 2) return tf.add(matMul(x as tf.Tensor2D, this.kernel as tf.Tensor2D), this.bias) as T;
      const [k, b, d] = x.shape as [number, number, number];
      const flat = tf.reshape(x, [k * b, d]) as tf.Tensor2D;
      const y = tf.add(matMul(flat, this.kernel as tf.Tensor2D), this.bias);
      return tf.reshape(y, [k, b, this.outDim]) as T;
    });
  }

  variables(): NamedVariable[] {
    return [
      { name: 'kernel', variable: this.kernel },
      { name: 'bias', variable: this.bias },
    ];
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias.dispose();
  }
}
