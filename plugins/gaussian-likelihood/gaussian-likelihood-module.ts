import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { PluginFactory, activationSchema, definePlugin, hiddenSchema } from '../../src/index.js';
import { GaussianLikelihood } from './gaussian-likelihood.js';

export const gaussianLikelihoodFactory = definePlugin({
  role: 'likelihood',
  name: 'gaussian',
  description: 'Gaussian p(x|z) = N(μ(z), σ²): σ fixed, one learned, or one learned per output',
  options: z
    .object({
      hidden: hiddenSchema.default([200, 200]),
      activation: activationSchema.default('tanh'),
      variance: z.enum(['fixed', 'global', 'per-dimension']).default('fixed'),
      sigma: z.number().positive().default(1),
    })
    .strict(),
  create: (o, ctx) => new GaussianLikelihood(ctx.latentDim, ctx.dataDim, o, ctx.random),
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(gaussianLikelihoodFactory);
});
