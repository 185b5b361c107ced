import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { PluginFactory, activationSchema, definePlugin, hiddenSchema } from '../../src/index.js';
import { BernoulliLikelihood } from './bernoulli-likelihood.js';

export const bernoulliLikelihoodFactory = definePlugin({
  role: 'likelihood',
  name: 'bernoulli',
  description: 'Bernoulli p(x|z) with logits from an MLP (binary or [0,1] data)',
  options: z
    .object({
      hidden: hiddenSchema.default([200, 200]),
      activation: activationSchema.default('tanh'),
    })
    .strict(),
  create: (o, ctx) => new BernoulliLikelihood(ctx.latentDim, ctx.dataDim, o, ctx.random),
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(bernoulliLikelihoodFactory);
});
