import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { ConfigError, PluginFactory, activationSchema, definePlugin } from '../../src/index.js';
import type { BuildContext } from '../../src/index.js';
import { RealNvpCouplingStep } from './realnvp-coupling-step.js';

/** See plugins/planar-flow: `contextDim` (0 = global) and `stepIndex` come from the flow encoder. */

export const realNvpCouplingOptions = z
  .object({
    /** Hidden layers of each coupling's scale-and-shift net. */
    hidden: z.array(z.number().int().positive()).min(1).default([64]),
    activation: activationSchema.default('tanh'),
    /** Each log-scale is c·tanh(raw/c) ∈ (−c, c). */
    logScaleBound: z.number().positive().default(3),
    /** Which half is transformed; by default it alternates with the coupling's index (0, 1, 0, …). */
    parity: z.union([z.literal(0), z.literal(1)]).optional(),
  })
  .strict();

export const realNvpFlowStepFactory = definePlugin({
  role: 'flow-step',
  name: 'realnvp',
  description: 'RealNVP conditional affine coupling (Dinh et al. 2017), bounded log-scale, exact inverse; alternating halves',
  options: realNvpCouplingOptions,
  create: (o, ctx: BuildContext) => {
    if (ctx.latentDim < 2) {
      throw new ConfigError(ctx.field, ctx.latentDim, 'latentDim ≥ 2 for a realnvp coupling (it splits z in two halves)');
    }
    const parity = o.parity ?? (((ctx.stepIndex ?? 0) % 2) as 0 | 1);
    return new RealNvpCouplingStep(ctx.latentDim, ctx.contextDim ?? 0, parity, o, ctx.random);
  },
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(realNvpFlowStepFactory);
});
