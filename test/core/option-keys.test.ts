import { describe, expect, it } from 'vitest';
import { amortizationGap, boundReport, createVae, estimateLogLikelihood, tf, train } from '../../plugins/index.js';
import { posteriorGrid } from '../../src/eval/posterior-grid.js';

const vae = () => createVae({ latentDim: 2, dataDim: 3, encoder: { type: 'gaussian', hidden: [4] }, likelihood: { type: 'gaussian', hidden: [4] } });
const x = () => tf.tensor2d([[0.1, 0.2, 0.3]]);

describe('misspelt options from JavaScript are errors, not ignored', () => {
  it('K is "samples" everywhere: the old "llSamples" is refused with a hint by boundReport, estimateLogLikelihood, posteriorGrid and amortizationGap', async () => {
    const hint = 'unknown option "llSamples" — K of log p̂(x) is "samples" (it was "llSamples").';
    await expect(boundReport(vae(), x(), { llSamples: 100 } as never)).rejects.toThrow(
      `boundReport: ${hint} Known options: elboSamples, iwaeSamples, samples, batchSize, chunk, seed, binarizeSeed, progress, workers, pluginModules.`,
    );
    await expect(estimateLogLikelihood(vae(), x(), { llSamples: 10 } as never)).rejects.toThrow(`estimateLogLikelihood: ${hint}`);
    await expect(posteriorGrid(vae(), [0.1, 0.2, 0.3], { llSamples: 10 } as never)).rejects.toThrow(`posteriorGrid: ${hint}`);
    await expect(amortizationGap(vae(), x(), { llSamples: 10 } as never)).rejects.toThrow(`amortizationGap: ${hint}`);
    await expect(boundReport(vae(), x(), { K: 100 } as never)).rejects.toThrow('boundReport: unknown option "K" — K, the samples per row, is "samples".');
  });
  it('the ELBO\'s sample count is "elboSamples": amortizationGap refuses the old "evalSamples"', async () => {
    await expect(amortizationGap(vae(), x(), { evalSamples: 10 } as never)).rejects.toThrow(
      'amortizationGap: unknown option "evalSamples" — the ELBO\'s sample count when scoring is "elboSamples" (it was "evalSamples").',
    );
  });
  it('a near miss gets the nearest key; vae.elbo({ k }) and createVae options too', () => {
    const v = vae();
    expect(() => v.iwae(x(), { sample: 5 } as never)).toThrow('iwae: unknown option "sample" — did you mean "samples"?');
    expect(() => v.elbo(x(), { k: 5 } as never)).toThrow('elbo: unknown option "k" — K, the samples per row, is "samples".');
    expect(() => v.iwae(x(), { llSamples: 5 } as never)).toThrow('iwae: unknown option "llSamples"');
    expect(() => createVae({ latentDim: 2, dataDim: 3, encoder: { type: 'gaussian' }, likelihood: { type: 'gaussian' } }, { plugin: [] } as never)).toThrow(
      'createVae: unknown option "plugin" — did you mean "plugins"?',
    );
  });
  it('train({ learningrate }) is refused before any step', async () => {
    const data = { name: 'x', x: new Float32Array(6), rows: 2, dim: 3, binarize: 'none' as const };
    await expect(train(vae(), data, { epochs: 1, learningrate: 0.1 } as never)).rejects.toThrow('train: unknown option "learningrate" — did you mean "learningRate"?');
  });
});
