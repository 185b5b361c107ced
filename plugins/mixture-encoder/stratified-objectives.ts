import { z } from 'zod';
import { ConfigError, definePlugin, tf } from '../../src/index.js';
import type { Objective, ObjectiveValue, Vae } from '../../src/index.js';
import { MixtureEncoder } from './mixture-encoder.js';
import { stratifiedElbo, stratifiedIwae } from './stratified-bounds.js';

type Bound = (vae: Vae, x: tf.Tensor2D, o: { samples: number }) => tf.Tensor1D;

/**
 * A stratified bound as a training objective: loss = −mean over rows of the bound; every variable
 * takes the plain (reparameterised) gradient — the bound is differentiable in the mixture weights
 * π as well as in the components, which is its point. β warm-up and free bits do not apply.
 */
class StratifiedObjective implements Objective {
  readonly separateEncoderLoss = false;

  constructor(
    readonly name: string,
    private readonly bound: Bound,
    readonly samples: number,
  ) {}

  get label(): string {
    return `${this.name} K=${this.samples}`;
  }

  compute(vae: Vae, x: tf.Tensor2D): ObjectiveValue {
    return tf.tidy(() => {
      const bound = this.bound(vae, x, { samples: this.samples });
      return { bound, loss: tf.neg(tf.mean(bound)) } as unknown as tf.TensorContainerObject;
    }) as unknown as ObjectiveValue;
  }
}

/** The objective plugin of one stratified bound: options `{ samples }`, and the mixture encoder required. */
function stratifiedObjectivePlugin(name: string, bound: Bound, description: string) {
  return definePlugin({
    role: 'objective',
    name,
    description,
    options,
    create: (o, ctx) => {
      const e = ctx.encoder;
      if (e && !(e instanceof MixtureEncoder)) {
        throw new ConfigError(`${ctx.field}.type`, name, `"elbo" or "iwae" with the "${e.name}" encoder ("${name}" draws from every component of the "mixture" encoder)`);
      }
      return new StratifiedObjective(name, bound, o.samples);
    },
  });
}

const options = z.object({ samples: z.number().int().positive().default(1).describe('K, draws per mixture component per row') }).strict();

export const stratifiedElboObjectiveFactory = stratifiedObjectivePlugin(
  'stratified-elbo',
  stratifiedElbo,
  'SIELBO = Σ_c π_c mean_k log w(z_ck), z_ck ~ q_c: the mixture encoder\'s ELBO, stratified and differentiable in π (Morningstar et al. 2021)',
);

export const stratifiedIwaeObjectiveFactory = stratifiedObjectivePlugin(
  'stratified-iwae',
  stratifiedIwae,
  'SIWAE_K = log (1/K) Σ_k Σ_c π_c w(z_ck), z_ck ~ q_c: the mixture encoder\'s importance-weighted bound, stratified (Morningstar et al. 2021)',
);
