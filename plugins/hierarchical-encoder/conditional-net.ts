import { tf, Dense, Mlp, activate, matMul } from '../../src/index.js';
import type { Activation, NamedVariable, Parametrised, Random } from '../../src/index.js';

/**
 * An MLP of two inputs, a per-row context c(h) and a per-sample input v, whose first layer is
 *
 *   a₁ = act(Wc·h + b + Wv·v),   h `[B, H]`, v `[K, B, I]` → a₁ `[K, B, W₁]`
 *
 * followed by the remaining hidden layers and a linear output `[K, B, O]`. The context part
 * `context(h) = Wc·h + b` `[B, W₁]` is computed once per row (not once per sample), and it is
 * what the hierarchical encoder exposes in λ(x), so that re-optimising λ per data point moves
 * every x-dependent quantity. With `hidden: []` the net is linear: output = Wc·h + b + Wv·v.
 */
export class ConditionalNet implements Parametrised {
  /** h → first-layer pre-activation (or the output, when there is no hidden layer). */
  readonly contextLayer: Dense;
  /** v → first-layer pre-activation, `[I, W₁]` (no bias: the context layer has it). */
  readonly inputKernel: tf.Variable;
  /** The layers after the first (absent when `hidden` is empty). */
  readonly rest: Mlp | null;

  constructor(
    readonly contextDim: number,
    readonly inputDim: number,
    readonly hidden: readonly number[],
    readonly activation: Activation,
    readonly outDim: number,
    random: Random,
    /** Multiplies the initial weights on v (1: Glorot over the whole first layer's fan-in). */
    inputScale = 1,
  ) {
    const first = hidden.length ? hidden[0]! : outDim;
    this.contextLayer = new Dense(contextDim, first, random);
    // Glorot over the whole first layer's fan-in (context and input together).
    const limit = inputScale * Math.sqrt(6 / (contextDim + inputDim + first));
    const w = new Float32Array(inputDim * first);
    for (let i = 0; i < w.length; i++) w[i] = (2 * random.uniform() - 1) * limit;
    this.inputKernel = tf.tidy(() => tf.variable(tf.tensor2d(w, [inputDim, first]), true));
    this.rest = hidden.length ? new Mlp(first, hidden.slice(1), activation, random, outDim) : null;
  }

  /** Width of `context(h)`. */
  get contextWidth(): number {
    return this.contextLayer.outDim;
  }

  /** The per-row part of the first layer, `[B, W₁]`. */
  context(h: tf.Tensor2D): tf.Tensor2D {
    return this.contextLayer.apply(h);
  }

  /** Output `[K, B, O]` from the per-row context `[B, W₁]` and the per-sample input `[K, B, I]`. */
  apply(context: tf.Tensor2D, v: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [k, b, i] = v.shape;
      const fromInput = tf.reshape(matMul(tf.reshape(v, [k * b, i]) as tf.Tensor2D, this.inputKernel as tf.Tensor2D), [
        k,
        b,
        this.contextWidth,
      ]);
      const pre = tf.add(fromInput, context) as tf.Tensor3D;
      if (!this.rest) return pre;
      return this.rest.apply(activate(pre, this.activation) as tf.Tensor3D);
    });
  }

  variables(): NamedVariable[] {
    const vars: NamedVariable[] = [
      { name: 'context/kernel', variable: this.contextLayer.kernel },
      { name: 'context/bias', variable: this.contextLayer.bias },
      { name: 'input/kernel', variable: this.inputKernel },
    ];
    if (this.rest) vars.push(...this.rest.variables().map((v) => ({ name: `rest/${v.name}`, variable: v.variable })));
    return vars;
  }

  dispose(): void {
    this.contextLayer.dispose();
    this.inputKernel.dispose();
    this.rest?.dispose();
  }
}
