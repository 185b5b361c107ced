import { tf } from '../core/tf.js';
import type { Random } from '../core/random.js';
import { checkTensorSize } from '../core/checks.js';
import type { NamedVariable, Parametrised } from '../core/variables.js';
import { matMul } from './mat-mul.js';
import { activate, type Activation } from './activation.js';
import { biasAdd, biasTanh, biasTanhAvailable } from './bias-tanh.js';
import { denseInitialValues, type WeightInit } from './weight-init.js';

export interface DenseOptions {
  /**
   * Initial weights: Glorot-uniform W with bias `bias` (default), PyTorch's nn.Linear default
   * (W and b ~ U(±1/√in); `bias` is ignored) — see `denseInitialValues` — or all zeros (for
   * residual/flow heads that start at the identity).
   */
  init?: WeightInit | 'zeros';
  /** Initial bias value (with `glorot` and `zeros`). */
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
    checkTensorSize('a dense layer', [inDim, outDim]);
    const values =
      init === 'zeros' ? { kernel: new Float32Array(inDim * outDim), bias: new Float32Array(outDim).fill(bias) } : denseInitialValues(inDim, outDim, init, random);
    if (init === 'glorot') values.bias.fill(bias);
    // tidy disposes the initial values (variables survive it), so a layer holds exactly two tensors.
    this.kernel = tf.tidy(() => tf.variable(tf.tensor2d(values.kernel, [inDim, outDim]), trainable));
    this.bias = tf.tidy(() => tf.variable(tf.tensor1d(values.bias), trainable));
  }

  /** x·W + b; the bias in one fused kernel each way where it runs (`bias-tanh.ts`). */
  apply<T extends tf.Tensor2D | tf.Tensor3D>(x: T): T {
    return tf.tidy(() => {
      const flat = (x.rank === 2 ? x : tf.reshape(x, [-1, this.inDim])) as tf.Tensor2D;
      const product = matMul(flat, this.kernel as tf.Tensor2D);
      const y = biasTanhAvailable() ? biasAdd(product, this.bias as tf.Tensor1D) : tf.add(product, this.bias);
      if (x.rank === 2) return y as T;
      const [k, b] = x.shape as [number, number, number];
      return tf.reshape(y, [k, b, this.outDim]) as T;
    });
  }

  /** activation(x·W + b); tanh with the bias in one fused kernel where it runs (`bias-tanh.ts`). */
  applyActivated<T extends tf.Tensor2D | tf.Tensor3D>(x: T, activation: Activation): T {
    if (activation !== 'tanh' || !biasTanhAvailable()) return tf.tidy(() => activate(this.apply(x), activation) as T);
    return tf.tidy(() => {
      const flat = (x.rank === 2 ? x : tf.reshape(x, [-1, this.inDim])) as tf.Tensor2D;
      const y = biasTanh(matMul(flat, this.kernel as tf.Tensor2D), this.bias as tf.Tensor1D);
      if (x.rank === 2) return y as T;
      const [k, b] = x.shape as [number, number, number];
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
