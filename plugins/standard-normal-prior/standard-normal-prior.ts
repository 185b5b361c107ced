import { tf, standardNormalLogProbOfEps } from '../../src/index.js';
import type { NamedVariable, Prior, Random } from '../../src/index.js';

/** p(z) = N(0, I): log p(z) = −½‖z‖² − (D/2) log 2π. No trainable variables. */
export class StandardNormalPrior implements Prior {
  readonly name = 'standard-normal';
  readonly kind = 'standard-normal';

  constructor(
    readonly latentDim: number,
    private readonly random: Random,
  ) {}

  logProb(z: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => standardNormalLogProbOfEps(z) as tf.Tensor2D);
  }

  sample(n: number): tf.Tensor2D {
    return this.random.normal<tf.Rank.R2>([n, this.latentDim]);
  }

  variables(): NamedVariable[] {
    return [];
  }

  dispose(): void {}
}
