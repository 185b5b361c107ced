import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { PluginFactory, definePlugin } from '../../src/index.js';
import { StandardNormalPrior } from './standard-normal-prior.js';

export const standardNormalPriorFactory = definePlugin({
  role: 'prior',
  name: 'standard-normal',
  description: 'p(z) = N(0, I)',
  options: z.object({}).strict(),
  create: (_o, ctx) => new StandardNormalPrior(ctx.latentDim, ctx.random),
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(standardNormalPriorFactory);
});
