import { describe, expect, it } from 'vitest';
import { boundReport, createVae, estimateLogLikelihood, tf, train } from '../../plugins/index.js';

const vae = () => createVae({ latentDim: 2, dataDim: 3, encoder: { type: 'gaussian', hidden: [4] }, likelihood: { type: 'gaussian', hidden: [4] } });
const x = () => tf.tensor2d([[0.1, 0.2, 0.3]]);

describe('misspelt options from JavaScript are errors, not ignored', () => {
  it('boundReport({ samples }) says which K is meant', async () => {
    await expect(boundReport(vae(), x(), { samples: 100 } as never)).rejects.toThrow(
      'boundReport: unknown option "samples" — K is "llSamples" for log p̂(x), "iwaeSamples" for the IWAE_K column and "elboSamples" for the ELBO. Known options: elboSamples, iwaeSamples, llSamples, batchSize, chunk, seed, binarizeSeed, progress, workers, pluginModules.',
    );
  });
  it('estimateLogLikelihood({ llSamples }) points to samples', async () => {
    await expect(estimateLogLikelihood(vae(), x(), { llSamples: 10 } as never)).rejects.toThrow('estimateLogLikelihood: unknown option "llSamples" — K of log p̂(x) is "samples" here.');
  });
  it('a near miss gets the nearest key; vae.elbo({ k }) and createVae options too', () => {
    const v = vae();
    expect(() => v.iwae(x(), { sample: 5 } as never)).toThrow('iwae: unknown option "sample" — did you mean "samples"?');
    expect(() => v.elbo(x(), { k: 5 } as never)).toThrow('elbo: unknown option "k" — K is "samples".');
    expect(() => createVae({ latentDim: 2, dataDim: 3, encoder: { type: 'gaussian' }, likelihood: { type: 'gaussian' } }, { plugin: [] } as never)).toThrow(
      'createVae: unknown option "plugin" — did you mean "plugins"?',
    );
  });
  it('train({ learningrate }) is refused before any step', async () => {
    const data = { name: 'x', x: new Float32Array(6), rows: 2, dim: 3, binarize: 'none' as const };
    await expect(train(vae(), data, { epochs: 1, learningrate: 0.1 } as never)).rejects.toThrow('train: unknown option "learningrate" — did you mean "learningRate"?');
  });
});
