import { describe, expect, it } from 'vitest';
import { formatEmVsVae, type EmVsVaeResult } from '../../bench/em-vs-vae.js';

type Row = EmVsVaeResult['rows'][number];
const est = (mean: number) => ({ mean, stdErr: 0.1 });
const row = (model: string, train: number, parameters: number | null): Row => ({
  model,
  posterior: 'q',
  trainLogLikelihood: train,
  testElbo: est(train - 1),
  testLogLikelihood: est(train),
  gap: est(1),
  klToPosterior: est(1),
  parameters,
  seconds: 1,
});
const options = { rows: 1000, testRows: 500, dataDim: 20, latentDim: 5, sigma: 0.5, epochs: 20, batchSize: 50, learningRate: 0.01, elboSamples: 100, emIterations: 2000, encoders: ['gaussian'], hidden: [64], seed: 1 };

describe('em-vs-vae: a VAE short of the PPCA fit', () => {
  it('is called under-trained at this budget, with its shortfall in nats', () => {
    const md = formatEmVsVae([row('PPCA, closed form (ML)', -28, null), row('VAE, gaussian encoder', -34.25, 1200), row('VAE, planar encoder', -28.01, 1500)], options, [], 'wasm');
    expect(md).toContain('**Under-trained at this budget:** VAE, gaussian encoder (train log p(x) 6.250 nats below the ML fit).');
    expect(md).toContain('the budget\'s (20 epochs over 1,000 rows)');
    expect(md).not.toContain('VAE, planar encoder (train log p(x)'); // 0.01 nats below: converged
  });
  it('says nothing when every VAE reaches the fit', () => {
    const md = formatEmVsVae([row('PPCA, closed form (ML)', -28, null), row('VAE, gaussian encoder', -28.02, 1200)], options, [], 'wasm');
    expect(md).not.toContain('Under-trained');
  });
});
