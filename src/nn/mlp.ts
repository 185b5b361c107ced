import { tf } from '../core/tf.js';
import type { Random } from '../core/random.js';
import { checkLayerSizes } from '../core/checks.js';
import { prefixed, type NamedVariable, type Parametrised } from '../core/variables.js';
import type { Activation } from './activation.js';
import { Dense } from './dense.js';

/**
 * A stack of Dense layers with an activation after each hidden layer. `hidden: []` with an
 * output size is a single linear map. Variables are named `0/kernel`, `0/bias`, `1/kernel`, …
 */
export class Mlp implements Parametrised {
  readonly layers: Dense[];

  constructor(
    readonly inDim: number,
    readonly hidden: readonly number[],
    readonly activation: Activation,
    random: Random,
    /** Output size; omitted, the net ends with its last hidden layer (activated). */
    readonly outDim?: number,
  ) {
    const sizes = [inDim, ...hidden, ...(outDim !== undefined ? [outDim] : [])];
    checkLayerSizes('a network', sizes);
    this.layers = [];
    for (let i = 0; i + 1 < sizes.length; i++) this.layers.push(new Dense(sizes[i]!, sizes[i + 1]!, random));
  }

  /** Width of what `apply` returns. */
  get outputDim(): number {
    return this.outDim ?? (this.hidden.length ? this.hidden[this.hidden.length - 1]! : this.inDim);
  }

  /** The network on x `[N, in]` or `[K, B, in]` (flattened to `[K·B, in]` once, and back at the end). */
  apply<T extends tf.Tensor2D | tf.Tensor3D>(x: T): T {
    return tf.tidy(() => {
      let h = (x.rank === 2 ? x : tf.reshape(x, [-1, this.inDim])) as tf.Tensor2D;
      this.layers.forEach((layer, i) => {
        const isOutput = this.outDim !== undefined && i === this.layers.length - 1;
        h = isOutput ? layer.apply(h) : layer.applyActivated(h, this.activation);
      });
      if (x.rank === 2) return h as T;
      const [k, b] = x.shape as [number, number, number];
      return tf.reshape(h, [k, b, this.outputDim]) as T;
    });
  }

  variables(): NamedVariable[] {
    return this.layers.flatMap((l, i) => prefixed(String(i), l.variables()));
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
