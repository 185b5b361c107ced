import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { PluginFactory, activationSchema, definePlugin, hiddenSchema } from '../../src/index.js';
import { FlowEncoder } from './flow-encoder.js';

const common = {
  /** The encoder MLP x → h(x); μ, log σ and the amortised step parameters are computed from h. */
  hidden: hiddenSchema.default([200, 200]),
  activation: activationSchema.default('tanh'),
  /** Step parameters from h(x) (default) or global (`false`, an ablation). */
  amortized: z.boolean().default(true),
};

/** `{ "type": "planar", "count": 10, ...step options }`; options are checked by the step plugin. */
export const flowStepSpecSchema = z.looseObject({
  type: z.string(),
  count: z.number().int().positive().default(1),
});

export const flowEncoderFactory = definePlugin({
  role: 'encoder',
  name: 'flow',
  description: 'Flow-enhanced encoder: diagonal-Gaussian base + flow-step plugins amortised on h(x) (Monte Carlo KL)',
  options: z.object({ ...common, steps: z.array(flowStepSpecSchema) }).strict(),
  create: (o, ctx) => new FlowEncoder('flow', ctx.dataDim, ctx.latentDim, o, ctx),
});

/** Shorthand `{ "type": "planar", "steps": 10 }` for `{ "type": "flow", "steps": [{ "type": "planar", "count": 10 }] }`. */
export const planarEncoderFactory = definePlugin({
  role: 'encoder',
  name: 'planar',
  description: 'Shorthand for a flow encoder with `steps` planar steps (Rezende & Mohamed 2015)',
  options: z.object({ ...common, steps: z.number().int().positive().default(10) }).strict(),
  create: (o, ctx) =>
    new FlowEncoder(
      'planar',
      ctx.dataDim,
      ctx.latentDim,
      { hidden: o.hidden, activation: o.activation, amortized: o.amortized, steps: [{ type: 'planar', count: o.steps }] },
      ctx,
      () => ctx.field,
    ),
});

/**
 * Shorthand `{ "type": "realnvp", "couplings": 4, "coupling": { "hidden": [64] } }` for a flow
 * encoder with `couplings` RealNVP couplings (alternating halves); `coupling` holds the step's options.
 */
export const realNvpEncoderFactory = definePlugin({
  role: 'encoder',
  name: 'realnvp',
  description: 'Shorthand for a flow encoder with `couplings` RealNVP affine couplings (Dinh et al. 2017)',
  options: z
    .object({
      ...common,
      couplings: z.number().int().positive().default(4),
      coupling: z.record(z.string(), z.unknown()).default({}),
    })
    .strict(),
  create: (o, ctx) =>
    new FlowEncoder(
      'realnvp',
      ctx.dataDim,
      ctx.latentDim,
      {
        hidden: o.hidden,
        activation: o.activation,
        amortized: o.amortized,
        steps: [{ ...o.coupling, type: 'realnvp', count: o.couplings }],
      },
      ctx,
      () => `${ctx.field}.coupling`,
    ),
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(flowEncoderFactory);
  bind(PluginFactory).toConstantValue(planarEncoderFactory);
  bind(PluginFactory).toConstantValue(realNvpEncoderFactory);
});
