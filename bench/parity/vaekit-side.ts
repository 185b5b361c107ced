import { cpuUsage } from 'node:process';
import { createVae } from '../../plugins/index.js';
import type { Dataset } from '../../src/data/dataset.js';
import { train } from '../../src/train/trainer.js';
import { evaluateBounds } from '../tightness/evaluate.js';
import type { Init, ParityRun, ParitySettings } from './types.js';

/** The model both sides train: 784-200-200-50 tanh, diagonal-Gaussian encoder, Bernoulli decoder. */
export function parityModel(init: Init) {
  return {
    latentDim: 50,
    encoder: { type: 'gaussian', hidden: [200, 200], activation: 'tanh' },
    prior: { type: 'standard-normal' },
    likelihood: { type: 'bernoulli', hidden: [200, 200], activation: 'tanh' },
    init,
  };
}

/**
 * Trains vaekit's model for one seed (ELBO with one sample, Adam, dynamic binarisation of
 * `trainSet`) and evaluates it on the fixed binarised `testSet`: the ELBO averaged over
 * `elboSamples` draws per row (closed-form KL) and log p̂(x) with K = `samples`.
 */
export async function runVaekit(s: ParitySettings, init: Init, seed: number, trainSet: Dataset, testSet: Dataset, log: (line: string) => void): Promise<ParityRun> {
  const cpu0 = cpuUsage();
  const vae = createVae(parityModel(init), { seed });
  try {
    const history = await train(vae, trainSet, {
      epochs: s.epochs,
      batchSize: s.batchSize,
      learningRate: s.learningRate,
      objective: { type: 'elbo', samples: 1 },
      seed,
      progress: false,
      log,
    });
    const t0 = performance.now();
    const b = await evaluateBounds(vae, testSet, {
      elboSamples: s.elboSamples,
      iwaeSamples: [s.samples],
      llSamples: s.samples,
      batchSize: 100,
      chunk: 100,
      seed: seed + 1000,
    });
    const cpu = cpuUsage(cpu0);
    return {
      side: 'vaekit',
      init,
      seed,
      elbo: b.elbo.mean,
      logLikelihood: b.logLikelihood.mean,
      trainSeconds: history.seconds,
      evalSeconds: (performance.now() - t0) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      perRow: { elbo: Array.from(b.perRow.elbo), logLikelihood: Array.from(b.perRow.logLikelihood) },
      settings: s,
    };
  } finally {
    vae.dispose();
  }
}
