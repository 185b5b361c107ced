import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { ConfigError, PluginFactory, activationSchema, definePlugin, hiddenSchema } from '../../src/index.js';
import type { BuildContext } from '../../src/index.js';
import { TwoLevelPrior } from './two-level-prior.js';

const options = z
  .object({
    /** [D₁, D₂]: z₁ (seen by the likelihood) and z₂ (top); Burda et al. 2015 use [100, 50]. Sum = model.latentDim. */
    sizes: z.tuple([z.number().int().positive(), z.number().int().positive()]).default([100, 50]),
    /** z₂ → p(z₁|z₂) hidden sizes (Burda et al.: [100, 100]); `[]` makes p(z₁|z₂) linear-Gaussian. */
    hidden: hiddenSchema.default([100, 100]),
    activation: activationSchema.default('tanh'),
  })
  .strict();

function create(o: z.output<typeof options>, ctx: BuildContext) {
  if (o.sizes[0] + o.sizes[1] !== ctx.latentDim) {
    throw new ConfigError(
      `${ctx.field}.sizes`,
      o.sizes,
      `two layer sizes [z₁, z₂] summing to model.latentDim = ${ctx.latentDim} (the two-level prior models concat[z₁, z₂])`,
    );
  }
  return new TwoLevelPrior({ ...o, sizes: [o.sizes[0], o.sizes[1]] }, ctx.random);
}

export const twoLevelPriorFactory = definePlugin({
  role: 'prior',
  name: 'two-level',
  description: 'Hierarchical p(z₂)p(z₁|z₂), z₂ ~ N(0, I), p(z₁|z₂) Gaussian from an MLP (Burda et al. 2015); pair with the two-level encoder',
  options,
  create,
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(twoLevelPriorFactory);
});
