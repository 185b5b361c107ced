import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { PluginFactory, activationSchema, definePlugin, hiddenSchema } from '../../src/index.js';
import { GaussianEncoder } from './gaussian-encoder.js';

export const gaussianEncoderFactory = definePlugin({
  role: 'encoder',
  name: 'gaussian',
  description: 'Diagonal Gaussian q(z|x) from an MLP (closed-form KL against a standard-normal prior)',
  options: z
    .object({
      hidden: hiddenSchema.default([200, 200]),
      activation: activationSchema.default('tanh'),
    })
    .strict(),
  create: (o, ctx) => new GaussianEncoder(ctx.dataDim, ctx.latentDim, o, ctx.random),
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(gaussianEncoderFactory);
});
