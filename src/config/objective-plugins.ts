import { ContainerModule } from 'inversify';
import { z } from 'zod';
import type { Encoder } from '../core/encoder.js';
import { ElboObjective } from '../core/elbo-objective.js';
import { IwaeObjective } from '../core/iwae-objective.js';
import { GRADIENT_ESTIMATORS, type GradientEstimator } from '../core/objective.js';
import { ConfigError } from './errors.js';
import { PluginFactory, definePlugin, type BuildContext } from './plugin.js';

const samples = z.number().int().positive().default(1).describe('K, samples per row');
const gradient = (allowed: readonly GradientEstimator[]) =>
  z.enum(GRADIENT_ESTIMATORS as unknown as [GradientEstimator, ...GradientEstimator[]]).default('reparam').describe(`encoder gradient estimator: ${allowed.join(' | ')}`);

/**
 * Refuses an estimator the objective or the encoder cannot use, with a ConfigError naming the
 * field, the value, the encoder and what would work.
 */
export function checkEstimator(objective: string, chosen: GradientEstimator, allowed: readonly GradientEstimator[], ctx: BuildContext, alternative: string): void {
  const field = `${ctx.field}.gradient`;
  if (!allowed.includes(chosen)) {
    throw new ConfigError(field, chosen, `for "${objective}" one of ${allowed.map((g) => JSON.stringify(g)).join(', ')}${alternative ? ` (${alternative})` : ''}`);
  }
  const encoder: Encoder | undefined = ctx.encoder;
  if (chosen !== 'reparam' && encoder && !encoder.logProb) {
    throw new ConfigError(
      field,
      chosen,
      `"reparam" with the "${encoder.name}" encoder: "${chosen}" scores samples with log q(z|x) at fixed parameters (Encoder.logProb), ` +
        `which "${encoder.name}" does not provide (the gaussian, flow, realnvp, planar and hierarchical encoders do)`,
    );
  }
}

export const elboObjectiveFactory = definePlugin({
  role: 'objective',
  name: 'elbo',
  description: 'ELBO E_q[log p(x|z)] − β·KL(q ‖ p(z)) (β-VAE with beta ≠ 1; train.warmup multiplies β, train.freeBits applies)',
  options: z
    .object({
      samples,
      beta: z.number().positive().default(1).describe('constant KL weight β (the β-VAE objective)'),
      gradient: gradient(['reparam', 'stl']),
    })
    .strict(),
  create: (o, ctx) => {
    checkEstimator('elbo', o.gradient, ['reparam', 'stl'], ctx, '"dreg" applies to "iwae": { "type": "iwae", "samples": K, "gradient": "dreg" }');
    return new ElboObjective(o);
  },
});

export const iwaeObjectiveFactory = definePlugin({
  role: 'objective',
  name: 'iwae',
  description: 'Importance-weighted bound IWAE_K = log mean_k p(x, z_k)/q(z_k|x) (Burda et al.); gradient "dreg" is unbiased with an SNR that does not fall with K, "stl" is biased for K > 1',
  options: z.object({ samples, gradient: gradient(['reparam', 'stl', 'dreg']) }).strict(),
  create: (o, ctx) => {
    checkEstimator('iwae', o.gradient, ['reparam', 'stl', 'dreg'], ctx, '');
    return new IwaeObjective(o);
  },
});

/** The built-in objectives, loaded into every container after the core module. */
export const objectivesModule = new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(elboObjectiveFactory);
  bind(PluginFactory).toConstantValue(iwaeObjectiveFactory);
});
