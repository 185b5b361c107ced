/**
 * A user adds a flow step without touching vaekit: a radial step (Rezende & Mohamed 2015) in a
 * ContainerModule contributing a `flow-step` factory, used from config by name.
 */
import { ContainerModule } from 'inversify';
import { describe, expect, it } from 'vitest';
import { NoInverseError, PluginFactory, Random, createVae, definePlugin, tf, z } from '../../../plugins/index.js';
import type { BuildContext, FlowResult, FlowStep, NamedVariable } from '../../../plugins/index.js';
import type { FlowEncoder } from '../../../plugins/flow-encoder/flow-encoder.js';
import { describeFlowStep } from '../../support/flow-harness.js';

/**
 * Radial flow: y = z + β·h(α, r)·(z − z₀), r = ‖z − z₀‖, h = 1/(α + r), with α = softplus(α̂) > 0 and
 * β = −α + softplus(β̂) ≥ −α (invertible). log|det| = (D − 1)·log(1 + βh) + log(1 + βh − βr/(α + r)²).
 * Global parameters (ignores any context).
 */
class RadialFlowStep implements FlowStep {
  readonly name = 'radial';
  readonly z0: tf.Variable;
  readonly alphaRaw: tf.Variable;
  readonly betaRaw: tf.Variable;

  constructor(
    readonly latentDim: number,
    random: Random,
  ) {
    this.z0 = tf.variable(random.normal([latentDim]));
    this.alphaRaw = tf.variable(tf.tensor1d([random.gaussian()]));
    this.betaRaw = tf.variable(tf.tensor1d([random.gaussian()]));
  }

  forward(z: tf.Tensor3D): FlowResult {
    return tf.tidy(() => {
      const alpha = tf.softplus(this.alphaRaw);
      const beta = tf.add(tf.neg(alpha), tf.softplus(this.betaRaw));
      const diff = tf.sub(z, this.z0);
      const r = tf.sqrt(tf.add(tf.sum(tf.square(diff), -1), 1e-12));
      const h = tf.div(1, tf.add(alpha, r));
      const bh = tf.mul(beta, h);
      const y = tf.add(z, tf.mul(tf.expandDims(bh, 2), diff)) as tf.Tensor3D;
      const last = tf.sub(tf.add(1, bh), tf.mul(beta, tf.mul(r, tf.square(h))));
      const logDet = tf.add(tf.mul(tf.log(tf.add(1, bh)), this.latentDim - 1), tf.log(last)) as tf.Tensor2D;
      return { z: y, logDet } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
  }

  inverse(): FlowResult {
    throw new NoInverseError(this.name);
  }

  variables(): NamedVariable[] {
    return [
      { name: 'z0', variable: this.z0 },
      { name: 'alpha', variable: this.alphaRaw },
      { name: 'beta', variable: this.betaRaw },
    ];
  }

  dispose(): void {
    tf.dispose([this.z0, this.alphaRaw, this.betaRaw]);
  }
}

const radialModule = new ContainerModule(({ bind }) => {
  bind(PluginFactory).toConstantValue(
    definePlugin({
      role: 'flow-step',
      name: 'radial',
      description: 'Radial flow step (user plugin)',
      options: z.object({}).strict(),
      create: (_o, ctx: BuildContext) => new RadialFlowStep(ctx.latentDim, ctx.random),
    }),
  );
});

describeFlowStep('radial (a user plugin defined in this test)', {
  make: (d, _c, random) => new RadialFlowStep(d, random),
  inverse: false,
  contextDim: 0,
  paramScale: 1,
});

describe('a user-defined flow step', () => {
  it('is used from config by name, mixed with built-in steps, and trains', () => {
    const vae = createVae(
      {
        latentDim: 2,
        dataDim: 3,
        encoder: { type: 'flow', hidden: [8], steps: [{ type: 'radial', count: 2 }, { type: 'planar' }] },
        likelihood: { type: 'gaussian', hidden: [8] },
      },
      { plugins: [radialModule] },
    );
    const enc = vae.encoder as FlowEncoder;
    expect(enc.steps.map((s) => s.step.name)).toEqual(['radial', 'radial', 'planar']);
    const radialVars = vae.variables(['encoder']).filter((v) => v.name.startsWith('encoder/steps/0/'));
    expect(radialVars.map((v) => v.name)).toEqual(['encoder/steps/0/z0', 'encoder/steps/0/alpha', 'encoder/steps/0/beta']);
    const x = new Random(1).normal<tf.Rank.R2>([8, 3]);
    const before = radialVars[0]!.variable.dataSync().slice();
    const opt = tf.train.adam(1e-2);
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(vae.elbo(x, { samples: 4 }).elbo)) as tf.Scalar);
      expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
      opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      tf.dispose([value]);
      tf.dispose(grads);
    }
    const after = radialVars[0]!.variable.dataSync();
    expect(Math.max(...after.map((v, i) => Math.abs(v - before[i]!)))).toBeGreaterThan(1e-3);
    opt.dispose();
    x.dispose();
    vae.dispose();
  });

  it('is unknown without its module, and the error lists the registered steps', () => {
    expect(() =>
      createVae({ latentDim: 2, dataDim: 3, encoder: { type: 'flow', steps: [{ type: 'radial' }] }, likelihood: { type: 'gaussian' } }),
    ).toThrow(/model\.encoder\.steps\[0\]\.type: expected a registered flow-step plugin: .*"planar".*"realnvp".*; got "radial"/);
  });
});
