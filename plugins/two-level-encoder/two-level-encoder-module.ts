import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { ConfigError, PluginFactory, activationSchema, definePlugin, hiddenSchema } from '../../src/index.js';
import type { BuildContext } from '../../src/index.js';
import { TwoLevelEncoder } from './two-level-encoder.js';

/** [D₁, D₂] layer sizes; they must sum to model.latentDim. */
export const layerSizesSchema = z.tuple([z.number().int().positive(), z.number().int().positive()]);

const options = z
  .object({
    /** [D₁, D₂]: z₁ (seen by the likelihood) and z₂; Burda et al. 2015 use [100, 50]. Sum = model.latentDim. */
    sizes: layerSizesSchema.default([100, 50]),
    /** x → q(z₁|x) hidden sizes (Burda et al.: [200, 200]). */
    hidden: hiddenSchema.default([200, 200]),
    /** z₁ → q(z₂|z₁) hidden sizes (Burda et al.: [100, 100]). */
    topHidden: hiddenSchema.default([100, 100]),
    activation: activationSchema.default('tanh'),
  })
  .strict();

function create(o: z.output<typeof options>, ctx: BuildContext) {
  if (o.sizes[0] + o.sizes[1] !== ctx.latentDim) {
    throw new ConfigError(
      `${ctx.field}.sizes`,
      o.sizes,
      `two layer sizes [z₁, z₂] summing to model.latentDim = ${ctx.latentDim} (the two-level encoder's z is concat[z₁, z₂])`,
    );
  }
  return new TwoLevelEncoder(ctx.dataDim, { ...o, sizes: [o.sizes[0], o.sizes[1]] }, ctx.random);
}

export const twoLevelEncoderFactory = definePlugin({
  role: 'encoder',
  name: 'two-level',
  description: 'Two stochastic layers q(z₁|x)q(z₂|z₁), z = [z₁, z₂] (Burda et al. 2015); pair with the two-level prior',
  options,
  create,
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(twoLevelEncoderFactory);
});
