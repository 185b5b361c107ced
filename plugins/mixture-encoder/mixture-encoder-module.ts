import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { PluginFactory, activationSchema, definePlugin, hiddenSchema } from '../../src/index.js';
import { MixtureEncoder } from './mixture-encoder.js';
import { stratifiedElboObjectiveFactory, stratifiedIwaeObjectiveFactory } from './stratified-objectives.js';

export const mixtureEncoderFactory = definePlugin({
  role: 'encoder',
  name: 'mixture',
  description: 'Mixture of C diagonal Gaussians q(z|x) = Σ π_c(x) N(μ_c(x), σ_c(x)²), exact log q by log-sum-exp (train with the stratified bounds)',
  options: z
    .object({
      hidden: hiddenSchema.default([200, 200]),
      activation: activationSchema.default('tanh'),
      components: z.number().int().min(1).default(2),
      spread: z.number().nonnegative().default(1),
    })
    .strict(),
  create: (o, ctx) => new MixtureEncoder(ctx.dataDim, ctx.latentDim, o, ctx.random),
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(mixtureEncoderFactory);
  bind(PluginFactory).toConstantValue(stratifiedElboObjectiveFactory);
  bind(PluginFactory).toConstantValue(stratifiedIwaeObjectiveFactory);
});
