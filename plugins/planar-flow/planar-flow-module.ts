import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { PluginFactory, definePlugin } from '../../src/index.js';
import type { BuildContext } from '../../src/index.js';
import { PlanarFlowStep } from './planar-flow-step.js';

export const planarFlowStepFactory = definePlugin({
  role: 'flow-step',
  name: 'planar',
  description: 'Planar flow step y = z + û·tanh(wᵀz + b), wᵀû > −1 (Rezende & Mohamed 2015); amortised on h(x)',
  options: z.object({}).strict(),
  create: (_o, ctx: BuildContext) => new PlanarFlowStep(ctx.latentDim, ctx.contextDim ?? 0, ctx.random),
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(planarFlowStepFactory);
});
