import { ContainerModule } from 'inversify';
import { describe, expect, it } from 'vitest';
import { Random, createVae, setSpeedFixes, tf, type Vae } from '../../../plugins/index.js';
import type { Dataset } from '../../../src/data/dataset.js';
import { train, type TrainOptions, type TrainerState } from '../../../src/train/trainer.js';

/** Noisy copies of four binary prototypes, binarised afresh each epoch (so the data stream is exercised too). */
function prototypes(rows: number, dim: number): Dataset {
  const random = new Random(7);
  const protos = Array.from({ length: 4 }, () => Array.from({ length: dim }, () => random.uniform()));
  const x = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) x[r * dim + j] = Math.min(1, Math.max(0, protos[r % 4]![j]! + 0.1 * (random.uniform() - 0.5)));
  return { name: 'prototypes', x, rows, dim, binarize: 'dynamic' };
}

const DIM = 12;
const data = prototypes(50, DIM);
const encoders: Record<string, { type: string; [k: string]: unknown }> = {
  gaussian: { type: 'gaussian', hidden: [16] },
  'planar ×3': { type: 'planar', hidden: [16], steps: 3 },
  'realnvp ×2': { type: 'realnvp', hidden: [16], couplings: 2, coupling: { hidden: [8] } },
  hierarchical: { type: 'hierarchical', hidden: [16], auxDim: 3, auxHidden: [8], flow: [{ type: 'planar', count: 2 }] },
};
const model = (encoder: { type: string }) => ({ latentDim: 4, dataDim: DIM, encoder, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: [16] }, seed: 3 });

/** Trains a fresh model; returns its weights (flat, in variable order), history and the log lines. */
async function run(encoder: { type: string }, options: Partial<TrainOptions>): Promise<{ weights: Float32Array; bounds: number[]; lines: string[]; vae: Vae }> {
  const vae = createVae(model(encoder));
  const lines: string[] = [];
  // 50 rows in batches of 16: three of 16 and a last one of 2 (each thread gets one row of it).
  const h = await train(vae, data, { epochs: 2, batchSize: 16, seed: 11, progress: false, log: (l) => lines.push(l), ...options });
  const parts = vae.variables().map((v) => v.variable.dataSync() as Float32Array);
  const weights = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    weights.set(p, at);
    at += p.length;
  }
  return { weights, bounds: h.epochs.map((e) => e.trainBound), lines, vae };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('training on two threads (data-parallel)', () => {
  for (const [name, encoder] of Object.entries(encoders)) {
    it(`equals one thread up to float32 summation order: ${name} encoder`, async () => {
      const one = await run(encoder, { threads: 1 });
      const before = tf.memory().numTensors;
      const two = await run(encoder, { threads: 2 });
      // The run made and released its own model: only the new model's variables stay.
      expect(tf.memory().numTensors - before).toBe(two.vae.variables().length);
      expect(two.lines.join('\n')).not.toMatch(/one thread/);
      // Adam normalises each gradient coordinate, so a rounding difference in a tiny gradient
      // moves a weight by up to ~lr per step: 8 steps at lr 1e-3 bound the drift well under 1e-3.
      expect(maxAbsDiff(one.weights, two.weights)).toBeLessThan(2e-4);
      expect(maxAbsDiff(one.weights, two.weights)).toBeGreaterThan(0); // the second thread really ran
      two.bounds.forEach((b, i) => expect(b).toBeCloseTo(one.bounds[i]!, 3));
      one.vae.dispose();
      two.vae.dispose();
    });
  }

  it('is deterministic for a seed, and a resumed run is byte-identical to an uninterrupted one', async () => {
    const encoder = encoders['planar ×3']!;
    const a = await run(encoder, { threads: 2 });
    const b = await run(encoder, { threads: 2 });
    expect(maxAbsDiff(a.weights, b.weights)).toBe(0);

    const first = createVae(model(encoder));
    let state: TrainerState | null = null;
    await train(first, data, {
      epochs: 1,
      batchSize: 16,
      seed: 11,
      threads: 2,
      quiet: true,
      progress: false,
      onEpochEnd: async (_r, capture) => {
        state = await capture();
      },
    });
    const resumed = createVae(model(encoder));
    resumed.setWeights(first.getWeights());
    await train(resumed, data, { epochs: 2, batchSize: 16, seed: 11, threads: 2, quiet: true, progress: false, resume: state! });
    const weights = resumed.variables().flatMap((v) => Array.from(v.variable.dataSync()));
    expect(maxAbsDiff(new Float32Array(weights), a.weights)).toBe(0);
    tf.dispose(state!.optimizer.map((o) => o.tensor));
    for (const v of [a.vae, b.vae, first, resumed]) v.dispose();
  });

  it('falls back to one thread, saying why, with free bits, user plugin modules or the speed fixes off', async () => {
    const encoder = encoders.gaussian!;
    const one = await run(encoder, { threads: 1, freeBits: 0.5 });
    const two = await run(encoder, { threads: 2, freeBits: 0.5 });
    expect(two.lines[0]).toBe('train.threads 2: training on one thread (free bits couple the rows of a batch)');
    expect(maxAbsDiff(one.weights, two.weights)).toBe(0);

    const vae = createVae(model(encoder), { plugins: [new ContainerModule(() => {})] });
    const lines: string[] = [];
    await train(vae, data, { epochs: 1, batchSize: 16, threads: 2, progress: false, log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(/training on one thread \(the model uses user plugin modules/);

    setSpeedFixes(false);
    try {
      const off = await run(encoder, { threads: 2 });
      expect(off.lines[0]).toBe('train.threads 2: training on one thread (speed fixes are off (setSpeedFixes(false)))');
      off.vae.dispose();
    } finally {
      setSpeedFixes(null);
    }
    for (const v of [one.vae, two.vae, vae]) v.dispose();
  });

  it('rejects a thread count that is not a positive integer', async () => {
    const vae = createVae(model(encoders.gaussian!));
    await expect(train(vae, data, { epochs: 1, threads: 0, quiet: true })).rejects.toThrow(/train\.threads/);
    await expect(train(vae, data, { epochs: 1, threads: 1.5, quiet: true })).rejects.toThrow(/train\.threads/);
    vae.dispose();
  });
});
