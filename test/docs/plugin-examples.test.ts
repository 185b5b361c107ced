/**
 * The plugin examples of docs/plugins.md and the README, run: each file in docs/examples is
 * quoted verbatim in the docs (so the page cannot drift from what runs here), passes its role's
 * `vaekit/testing` checks, matches its closed form at a point, and trains inside a VAE built
 * from a config naming it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Random, createVae, tf, type Dataset, type Likelihood, type Prior, train } from 'vaekit';
import { assertFlowStep, assertLikelihood, assertPrior, buildPlugin } from 'vaekit/testing';
import scaledNormalModule, { ScaledNormalPrior } from '../../docs/examples/scaled-normal-prior.js';
import laplacePriorModule, { LaplacePrior } from '../../docs/examples/laplace-prior.js';
import laplaceLikelihoodModule from '../../docs/examples/laplace-likelihood.js';
import affineStepModule, { AffineFlowStep } from '../../docs/examples/affine-flow-step.js';

const text = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
/** The ```ts blocks of a Markdown file. */
const tsBlocks = (md: string) => [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/plugins.md and the README quote the examples that run here', () => {
  for (const file of ['laplace-prior.ts', 'laplace-likelihood.ts', 'affine-flow-step.ts']) {
    it(`docs/plugins.md holds docs/examples/${file} verbatim`, () => {
      expect(tsBlocks(text('docs/plugins.md'))).toContain(text(`docs/examples/${file}`));
    });
  }
  it('the README holds docs/examples/scaled-normal-prior.ts verbatim', () => {
    expect(tsBlocks(text('README.md'))).toContain(text('docs/examples/scaled-normal-prior.ts'));
  });
});

describe('the example plugins keep their contracts', () => {
  it('scaled-normal prior: log p(z) at z = (1, −2), s = 2 is −5/8 − 2 log 2 − log 2π, and it passes the prior checks', () => {
    const p = new ScaledNormalPrior(2, 2, new Random(1));
    const lp = p.logProb(tf.tensor3d([[[1, -2]]])).dataSync()[0]!;
    expect(lp).toBeCloseTo(-5 / 8 - 2 * Math.log(2) - Math.log(2 * Math.PI), 5);
    assertPrior('scaled-normal', { make: (D, random) => buildPlugin<Prior>('prior', { type: 'scaled-normal', scale: 2 }, { latentDim: D, random, plugins: [scaledNormalModule] }) });
  });

  it('laplace prior: log p(z) at z = (1, −2), b = 1 is −3 − 2 log 2, and it passes the prior checks', () => {
    const p = new LaplacePrior(2, 1, new Random(1));
    expect(p.logProb(tf.tensor3d([[[1, -2]]])).dataSync()[0]!).toBeCloseTo(-3 - 2 * Math.log(2), 5);
    assertPrior('laplace', { make: (D, random) => buildPlugin<Prior>('prior', { type: 'laplace', scale: 0.5 }, { latentDim: D, random, plugins: [laplacePriorModule] }) });
  });

  it('laplace likelihood passes the likelihood checks (density, mean, gradients, leaks)', () => {
    assertLikelihood('laplace', {
      make: (D, P, random) => buildPlugin<Likelihood>('likelihood', { type: 'laplace', hidden: [8], scale: 0.3 }, { latentDim: D, dataDim: P, random, plugins: [laplaceLikelihoodModule] }),
    });
  });

  it('affine flow step passes the flow-step checks, amortised (C = 3) and global (C = 0)', () => {
    assertFlowStep('affine (amortised)', { make: (D, C, random) => new AffineFlowStep(D, C, random), inverse: true });
    assertFlowStep('affine (global)', { make: (D, C, random) => new AffineFlowStep(D, C, random), inverse: true, contextDim: 0 });
  });
});

describe('the example plugins in a VAE', () => {
  it('train together from a config that names them: the bound rises over 3 epochs', async () => {
    const random = new Random(3);
    const rows = 256;
    const dim = 4;
    // x = A·u + noise, u ~ N(0, I₂): data a 2-dimensional latent explains.
    const a = [0.9, -0.4, 0.3, 1.1, -0.7, 0.5, 0.2, 0.8];
    const x = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      const u = [random.gaussian(), random.gaussian()];
      for (let j = 0; j < dim; j++) x[r * dim + j] = a[2 * j]! * u[0]! + a[2 * j + 1]! * u[1]! + 0.1 * random.gaussian();
    }
    const data: Dataset = { name: 'linear', x, rows, dim, binarize: 'none' };
    const vae = createVae(
      {
        latentDim: 2,
        dataDim: dim,
        encoder: { type: 'flow', hidden: [16], steps: [{ type: 'affine' }, { type: 'affine' }] },
        prior: { type: 'laplace', scale: 1 },
        likelihood: { type: 'laplace', hidden: [16], scale: 0.3 },
      },
      { plugins: [laplacePriorModule, laplaceLikelihoodModule, affineStepModule] },
    );
    const history = await train(vae, data, { epochs: 3, batchSize: 32, learningRate: 0.01, seed: 1, quiet: true });
    const bounds = history.epochs.map((e) => e.trainBound);
    expect(bounds.every(Number.isFinite)).toBe(true);
    expect(bounds[2]!).toBeGreaterThan(bounds[0]! + 1); // at least a nat better per row after 2 more epochs
    expect(Object.keys(vae.getWeights())).toContain('encoder/steps/0/head/kernel');
    vae.dispose();
  });
});
