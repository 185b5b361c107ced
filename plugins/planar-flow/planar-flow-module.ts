import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { PluginFactory, definePlugin } from '../../src/index.js';
import type { BuildContext } from '../../src/index.js';
import { PlanarFlowStack, PlanarFlowStep } from './planar-flow-step.js';

export const planarFlowStepFactory = definePlugin({
  role: 'flow-step',
  name: 'planar',
  description: 'Planar flow step y = z + û·tanh(wᵀz + b), wᵀû > −1 (Rezende & Mohamed 2015); amortised on h(x)',
  options: z.object({}).strict(),
  // A flow encoder passes `stepCount` (how many consecutive planar steps its config asks for):
  // S > 1 builds one `PlanarFlowStack` standing for all of them (fewer ops, same math and weights).
  create: (_o, ctx: BuildContext) => {
    const count = ctx.stepCount ?? 1;
    return count > 1
      ? new PlanarFlowStack(ctx.latentDim, ctx.contextDim ?? 0, ctx.random, count)
      : new PlanarFlowStep(ctx.latentDim, ctx.contextDim ?? 0, ctx.random);
  },
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(planarFlowStepFactory);
});
