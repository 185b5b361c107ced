import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createVae, gemmThreadStats, gemmThreadsUnavailable, setKernelThreads, stopGemmThreads, tf, type Vae } from '../../plugins/index.js';
import { train } from '../../src/train/trainer.js';
import { HOST_KERNEL_BACKEND, requiresForEach } from '../support/requires.js';
import { prototypes } from '../support/prototypes.js';

// Training with vaekit's matrix products split over kernel threads (src/backend/gemm-threads.ts)
// is the same computation as on one thread: the same weights and losses, bit for bit. Products
// are split on wasm and cpu (host kernels); on other backends there is nothing to test.
requiresForEach(HOST_KERNEL_BACKEND);

afterEach(() => setKernelThreads(null));
afterAll(async () => {
  await stopGemmThreads();
});

const DIM = 784;
const BATCH = 100;

const data = prototypes(3 * BATCH, DIM, 5);

// Layers of 784 → 200 and 200 → 784 at batch 100: 15.7 M multiply-adds per product, well above
// MIN_SPLIT_MACS (the 200 → latent products, 0.6 M, stay on this thread).
const encoders: Record<string, { type: string; [k: string]: unknown }> = {
  gaussian: { type: 'gaussian', hidden: [200] },
  'planar ×4': { type: 'planar', hidden: [200], steps: 4 },
  'realnvp ×2': { type: 'realnvp', hidden: [200], couplings: 2 },
  hierarchical: { type: 'hierarchical', hidden: [200], auxDim: 8, auxHidden: [200], flow: [{ type: 'planar', count: 2 }] },
};
const model = (encoder: { type: string }) => ({ latentDim: 8, dataDim: DIM, encoder, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: [200] }, seed: 3 });

/** Trains a fresh model for 2 epochs of 3 steps with `threads` kernel threads: its weights (in variable order), the epochs' bounds, and how many products used a helper thread (split, or run beside one here). */
async function run(encoder: { type: string }, threads: number): Promise<{ weights: Float32Array[]; bounds: number[]; split: number; chunks: number; vae: Vae }> {
  setKernelThreads(threads);
  try {
    const vae = createVae(model(encoder));
    const before = gemmThreadStats();
    // syncEvery 1: every step's loss is read (and checked finite) before its update.
    const h = await train(vae, data, { epochs: 2, batchSize: BATCH, seed: 11, syncEvery: 1, quiet: true, progress: false });
    const after = gemmThreadStats();
    const split = after.splitProducts - before.splitProducts + after.sideProducts - before.sideProducts;
    const chunks = after.chunksHere + after.chunksHelped - before.chunksHere - before.chunksHelped;
    const weights = vae.variables().map((v) => v.variable.dataSync() as Float32Array);
    return { weights, bounds: h.epochs.map((e) => e.trainBound), split, chunks, vae };
  } finally {
    setKernelThreads(null);
  }
}

describe('training with kernel threads', () => {
  for (const [name, encoder] of Object.entries(encoders)) {
    it(`gives the one-thread weights and losses bit for bit on 2 kernel threads: ${name} encoder`, async () => {
      const one = await run(encoder, 1);
      expect(one.split).toBe(0);
      one.vae.dispose();
      const before = tf.memory().numTensors;
      const two = await run(encoder, 2);
      expect(gemmThreadsUnavailable()).toBeUndefined();
      // 6 steps, each with at least the two wide layers' forward products split and two gradient products on a helper (dW₁ split; dW₂ beside dH).
      expect(two.split).toBeGreaterThanOrEqual(6 * 4);
      // On wasm's shared heap every split runs in chunks: the products, and Adam, bias + tanh and
      // the Bernoulli likelihood (at least ~2 chunks each of ≥ 9 kernels a step); on cpu none do.
      if (tf.getBackend() === 'wasm') expect(two.chunks).toBeGreaterThanOrEqual(6 * 9 * 2);
      else expect(two.chunks).toBe(0);
      expect(two.weights.length).toBe(one.weights.length);
      two.weights.forEach((w, i) => {
        let differ = 0;
        for (let j = 0; j < w.length; j++) if (!Object.is(w[j], one.weights[i]![j])) differ++;
        expect(differ, `variable ${two.vae.variables()[i]!.name}: weights that differ`).toBe(0);
      });
      expect(two.bounds).toEqual(one.bounds);
      expect(one.bounds.every(Number.isFinite)).toBe(true);
      // The run made and released its own tensors: only the model's variables stay, and they go with it.
      expect(tf.memory().numTensors - before).toBe(two.vae.variables().length);
      two.vae.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
