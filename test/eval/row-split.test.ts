import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createVae, tf } from '../../plugins/index.js';
import { Random } from '../../src/core/random.js';
import { batchSeed } from '../../src/eval/batch-evaluation.js';
import { boundReport } from '../../src/eval/bound-report.js';
import { estimateLogLikelihood } from '../../src/eval/log-likelihood.js';
import { evaluateRows } from '../../src/eval/row-split.js';
import nanBernoulli from '../cli/fixtures/nan-likelihood-plugin.js';
import { runNodeScript } from '../support/node-script.js';

const P = 12;
const config = (encoder: { type: string; [option: string]: unknown }, likelihood = 'bernoulli') => ({
  latentDim: 3,
  dataDim: P,
  encoder: { hidden: [16], activation: 'tanh' as const, ...encoder },
  prior: { type: 'standard-normal' },
  likelihood: likelihood === 'bernoulli' ? { type: likelihood, hidden: [16], activation: 'tanh' as const } : { type: likelihood, hidden: [16] },
});

function binaryRows(n: number, seed: number): tf.Tensor2D {
  const r = new Random(seed);
  const v = new Float32Array(n * P);
  for (let i = 0; i < v.length; i++) v[i] = r.uniform() < 0.3 ? 1 : 0;
  return tf.tensor2d(v, [n, P]);
}

// 7 rows in batches of 2: four batches (the last of one row), so 2 and 3 workers share them unevenly.
const x = binaryRows(7, 3);
afterAll(() => x.dispose());

describe('evaluation split over worker threads', () => {
  it('gives log p̂(x) equal to one thread, whatever the worker count, and equal to the per-batch definition', async () => {
    for (const encoder of [{ type: 'gaussian' }, { type: 'planar', steps: 3 }]) {
      const vae = createVae(config(encoder), { seed: 4 });
      const o = { samples: 50, chunk: 20, batchSize: 2, seed: 9, progress: false } as const;
      const one = await estimateLogLikelihood(vae, x, { ...o, workers: 1 });
      expect(one.threads).toBe(1);
      // The definition, computed directly: batch j's K log-weights from the generator seeded batchSeed(9, j).
      const direct: number[] = [];
      for (let j = 0; j < 4; j++) {
        vae.random.reseed(batchSeed(9, j));
        const rows = tf.slice(x, [2 * j, 0], [Math.min(2, 7 - 2 * j), P]);
        const lw = vae.logWeights(rows, { samples: 50 });
        const lme = tf.sub(tf.logSumExp(lw, 0), Math.log(50));
        direct.push(...(await lme.data()));
        tf.dispose([rows, lw, lme]);
      }
      one.perRow.forEach((v, i) => expect(v).toBeCloseTo(direct[i]!, 4));
      // Worker start-up is the slow part (each thread loads the library and the wasm backend): 2 and 3 workers for one family.
      for (const workers of encoder.type === 'gaussian' ? [2, 3] : [2]) {
        const split = await estimateLogLikelihood(vae, x, { ...o, workers });
        expect(split.threads).toBe(workers);
        // Float32 rounding at most (the same rows, weights, noise and kernels: in practice bit-identical).
        split.perRow.forEach((v, i) => expect(Math.abs(v - one.perRow[i]!)).toBeLessThanOrEqual(1e-6 * Math.abs(one.perRow[i]!)));
        expect(split.mean).toBeCloseTo(one.mean, 5);
      }
      vae.dispose();
    }
  });

  it('gives the same bound report on 1 and 2 workers (ELBO, IWAE_K, log p̂, gap)', async () => {
    const vae = createVae(config({ type: 'gaussian' }), { seed: 5 });
    const o = { elboSamples: 10, iwaeSamples: [1, 10, 40], samples: 40, batchSize: 3, chunk: 15, seed: 2, progress: false };
    const one = await boundReport(vae, x, { ...o, workers: 1 });
    const two = await boundReport(vae, x, { ...o, workers: 2 });
    expect(two.threads).toBe(2);
    const close = (a: { mean: number; stdErr: number }, b: { mean: number; stdErr: number }) => {
      expect(a.mean).toBeCloseTo(b.mean, 5);
      expect(a.stdErr).toBeCloseTo(b.stdErr, 5);
    };
    for (const k of ['elbo', 'reconstruction', 'kl', 'logLikelihood', 'gap'] as const) close(two[k], one[k]);
    two.iwae.forEach((e, j) => close(e, one.iwae[j]!));
    expect(two.klExact).toBe(true);
    expect(one.iwae.map((e) => e.groups)).toEqual([40, 4, 1]);
    vae.dispose();
  });

  it('passes every per-row field of the batch evaluation through, in row order', async () => {
    const vae = createVae(config({ type: 'gaussian' }), { seed: 6 });
    const task = { kind: 'bounds' as const, elboSamples: 4, iwaeSamples: [2, 8], samples: 8, chunk: 8 };
    const run = { batchSize: 2, binarizeSeed: 0, seed: 1, label: 'test', progress: false };
    const one = await evaluateRows(vae, x, task, { ...run, workers: 1 });
    const two = await evaluateRows(vae, x, task, { ...run, workers: 2 });
    expect(Object.keys(two.perRow).sort()).toEqual(['elbo', 'ess', 'iwae:2', 'iwae:8', 'kl', 'logLikelihood', 'paretoK', 'reconstruction']);
    for (const [name, values] of Object.entries(one.perRow)) {
      expect(values).toHaveLength(7);
      // k̂ needs a tail of ≥ 5 of the K = 8 weights: NaN here, by definition.
      if (name === 'paretoK') expect(values.every(Number.isNaN)).toBe(true);
      else expect(values.every(Number.isFinite)).toBe(true);
      Array.from(two.perRow[name]!).forEach((v, i) => (name === 'paretoK' ? expect(v).toBeNaN() : expect(v).toBeCloseTo(values[i]!, 5)));
    }
    vae.dispose();
  });

  it('falls back to one thread, saying why, when a worker cannot rebuild the model; loads plugin files it is given', async () => {
    const vae = createVae(config({ type: 'gaussian' }, 'nan-bernoulli'), { seed: 7, plugins: [nanBernoulli] });
    const o = { samples: 20, chunk: 20, batchSize: 2, seed: 3, progress: false } as const;
    const one = await estimateLogLikelihood(vae, x, { ...o, workers: 1 });
    // The user plugin lives only in this thread: the workers cannot build "nan-bernoulli".
    const run = { batchSize: 2, binarizeSeed: 0, seed: 3, label: 'test', progress: false, workers: 2 };
    const fallback = await evaluateRows(vae, x, { kind: 'log-likelihood', samples: 20, chunk: 20 }, run);
    expect(fallback.threads).toBe(1);
    expect(fallback.fallback).toMatch(/^evaluation worker threads unavailable \(.*nan-bernoulli.*\); evaluating on one thread$/);
    expect(Array.from(fallback.perRow.logLikelihood!)).toEqual(Array.from(one.perRow));
    // Given the plugin's file, the workers load it and build the model.
    const pluginModules = [fileURLToPath(new URL('../cli/fixtures/nan-likelihood-plugin.ts', import.meta.url))];
    const split = await estimateLogLikelihood(vae, x, { ...o, workers: 2, pluginModules });
    expect(split.threads).toBe(2);
    split.perRow.forEach((v, i) => expect(v).toBeCloseTo(one.perRow[i]!, 5));
    vae.dispose();
  });

  // 'auto' in a Node main thread (a fresh process: test files run in vitest's workers, where 'auto' is 1).
  it.skipIf(availableParallelism() < 2)("with 'auto' evaluates here while this thread's kernels use every core in place, and starts workers for a long rest only", async () => {
    const at = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const script = `
      const { createVae, tf } = await import(${at('../../plugins/index.ts')});
      const { selectBackend } = await import(${at('../../src/backend/select-backend.ts')});
      const { evaluateRows } = await import(${at('../../src/eval/row-split.ts')});
      await selectBackend('wasm', { quiet: true });
      const vae = createVae(${JSON.stringify(config({ type: 'gaussian' }))}, { seed: 4 });
      const x = tf.tensor2d(${JSON.stringify(Array.from(x.dataSync()))}, [7, ${P}]);
      const task = { kind: 'log-likelihood', samples: 50, chunk: 20 };
      const run = { batchSize: 2, binarizeSeed: 0, seed: 9, label: 'test', progress: false };
      const one = await evaluateRows(vae, x, task, { ...run, workers: 1 });
      const auto = await evaluateRows(vae, x, task, run);
      // Any rest is "long": batch 0 here, the other three on workers.
      const handed = await evaluateRows(vae, x, task, { ...run, workersPayOffSeconds: 0 });
      const same = (r) => Array.from(r.perRow.logLikelihood).every((v, i) => v === one.perRow.logLikelihood[i]);
      console.log(JSON.stringify({ auto: auto.threads, handed: handed.threads, same: [same(auto), same(handed)] }));
    `;
    const run = (sharedHeap: string | undefined) => {
      const env: Record<string, string | undefined> = { ...process.env };
      for (const k of ['VAEKIT_BACKEND', 'VAEKIT_EVAL_WORKERS', 'VAEKIT_KERNEL_THREADS', 'VAEKIT_SHARED_HEAP']) delete env[k];
      if (sharedHeap !== undefined) env.VAEKIT_SHARED_HEAP = sharedHeap;
      return runNodeScript<{ auto: number; handed: number; same: boolean[] }>(script, env);
    };
    // Shared heap, 2 kernel threads: four short batches stay here; with no time to spare, workers take the rest. Bit-identical either way.
    expect(await run(undefined)).toEqual({ auto: 1, handed: 2, same: [true, true] });
    // A plain heap (kernels on one core here): workers from the start, as before.
    expect(await run('0')).toEqual({ auto: 2, handed: 2, same: [true, true] });
  }, 120_000);

  it('rejects a bad worker count, naming it', async () => {
    const vae = createVae(config({ type: 'gaussian' }), { seed: 1 });
    await expect(estimateLogLikelihood(vae, x, { samples: 2, workers: 0, progress: false })).rejects.toThrow('workers: expected a positive integer or "auto"; got 0');
    await expect(estimateLogLikelihood(vae, x, { samples: 2, workers: 1.5, progress: false })).rejects.toThrow('got 1.5');
    vae.dispose();
  });
});
