import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { PluginFactory, definePlugin } from '../../src/index.js';
import type { BuildContext } from '../../src/index.js';
import { PlanarFlow } from './planar-flow.js';

export const planarFlowStepFactory = definePlugin({
  role: 'flow-step',
  name: 'planar',
  description: 'Planar flow step y = z + û·tanh(wᵀz + b), wᵀû > −1 (Rezende & Mohamed 2015); amortised on h(x)',
  options: z.object({}).strict(),
  // A flow encoder passes `stepCount` (how many consecutive planar steps its config entry still
  // asks for): one `PlanarFlow` stands for all of them (one head, one kernel; see its comment).
  create: (_o, ctx: BuildContext) => new PlanarFlow(ctx.latentDim, ctx.contextDim ?? 0, ctx.random, ctx.stepCount ?? 1),
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(planarFlowStepFactory);
});
