import { ContainerModule } from 'inversify';
import { z } from 'zod';
import { PluginFactory, activationSchema, definePlugin, flowStepCount, hiddenSchema } from '../../src/index.js';
import type { FlowStep } from '../../src/index.js';
import { HierarchicalEncoder } from './hierarchical-encoder.js';

/** A flow-step spec as in a flow encoder's `steps`: `{ "type": "planar", "count": 4, ... }`. */
const flowStepSpecSchema = z.looseObject({ type: z.string(), count: z.number().int().positive().optional() });

export const hierarchicalEncoderFactory = definePlugin({
  role: 'encoder',
  name: 'hierarchical',
  description:
    'Auxiliary-variable hierarchical q(z|x) = ∫q(z|u,x)q(u|x)du with a learned reverse model r(u|z,x) (Ranganath 2016, Maaløe 2016)',
  options: z
    .object({
      /** Trunk x → h shared by q(u|x), q(z|u,x) and r(u|z,x). */
      hidden: hiddenSchema.default([200, 200]),
      activation: activationSchema.default('tanh'),
      /** Dimension of the auxiliary u; defaults to model.latentDim. */
      auxDim: z.number().int().positive().optional(),
      /** Hidden sizes of the q(z|u,x) and r(u|z,x) nets (each also sees h in its first layer). */
      auxHidden: hiddenSchema.default([200]),
      /**
       * Initial scale (× Glorot) of the weights from u into q(z|u,x). Measured on the 2-D product
       * model (test/plugins/hierarchical-encoder): 1 leaves q(z|x) near-Gaussian (gap 0.94 nats vs the
       * diagonal Gaussian's 1.00); 5 starts it as a visible mixture and reaches 0.78.
       */
      auxInitScale: z.number().positive().default(1),
      /** Optional flow steps on z given u (flow-step plugins by name), parameterised from h(x). */
      flow: z.array(flowStepSpecSchema).default([]),
    })
    .strict(),
  create: (o, ctx) => {
    const trunkWidth = o.hidden.length ? o.hidden[o.hidden.length - 1]! : ctx.dataDim;
    const steps: FlowStep[] = [];
    const perType = new Map<string, number>();
    // The flow-step contract of the flow encoder: D, the context width C of h(x), the step's
    // index among the steps of its type (RealNVP alternates halves with it) and `stepCount`, the
    // steps of the entry still to build (a factory may return one step standing for several).
    try {
      o.flow.forEach((spec, i) => {
        const { count = 1, ...stepSpec } = spec;
        for (let c = 0; c < count; ) {
          const stepIndex = perType.get(stepSpec.type) ?? 0;
          const overrides = { latentDim: ctx.latentDim, contextDim: trunkWidth, stepIndex, stepCount: count - c };
          const step = ctx.create<FlowStep>('flow-step', stepSpec, `${ctx.field}.flow[${i}]`, overrides);
          steps.push(step);
          const n = flowStepCount(step);
          if (!Number.isInteger(n) || n < 1 || n > count - c) {
            throw new Error(`hierarchical encoder: the ${stepSpec.type} factory (${ctx.field}.flow[${i}]) returned a step standing for ${n} steps; expected 1 to ${count - c}`);
          }
          perType.set(stepSpec.type, stepIndex + n);
          c += n;
        }
      });
    } catch (e) {
      for (const s of steps) s.dispose();
      throw e;
    }
    return new HierarchicalEncoder(
      ctx.dataDim,
      ctx.latentDim,
      { hidden: o.hidden, activation: o.activation, auxDim: o.auxDim ?? ctx.latentDim, auxHidden: o.auxHidden, auxInitScale: o.auxInitScale },
      ctx.random,
      steps,
    );
  },
});

export default new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(hierarchicalEncoderFactory);
});
