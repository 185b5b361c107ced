import { tf } from '../core/tf.js';
import type { Vae } from '../core/vae.js';
import { LogMeanExpAccumulator, streamLogWeights } from './log-likelihood.js';
import { ImportanceDiagnosticsAccumulator } from './importance-diagnostics.js';

/**
 * What to compute for each batch of rows. Both tasks stream log-weights
 * log w = log p(x, z) − log q(z|x), z ~ q(z|x), in chunks of `chunk` samples.
 *
 * * `log-likelihood`: per row `logLikelihood` = log (1/K) Σ_k w_k with K = `samples`, and the
 *   effective sample size `ess` and PSIS Pareto `paretoK` of those K weights.
 * * `bounds`: per row `elbo`, `reconstruction`, `kl` (each averaged over `elboSamples` draws,
 *   drawn first), then one stream of max(samples, max K) log-weights from which `iwae:K` is the
 *   mean of the ⌊total/K⌋ disjoint groups of K and `logLikelihood` uses the first `samples`
 *   (with their `ess` and `paretoK`).
 *
 * A task is plain data (it crosses to evaluation worker threads as a message).
 */
export type EvalTask =
  | { kind: 'log-likelihood'; samples: number; chunk: number }
  | { kind: 'bounds'; elboSamples: number; iwaeSamples: number[]; samples: number; chunk: number };

/**
 * The per-row results of one batch, by name, each of length B (rows of the batch, in order),
 * and per-batch flags (e.g. `klExact`) combined over batches with AND. Evaluations that add
 * per-row quantities (diagnostics of the weights, …) add fields here; row splitting concatenates
 * every field in row order whatever its name.
 */
export interface BatchResult {
  perRow: Record<string, Float64Array>;
  flags: Record<string, boolean>;
}

/** Samples drawn per row by a task (the unit of progress). */
export function samplesPerRow(task: EvalTask): number {
  if (task.kind === 'log-likelihood') return task.samples;
  return task.elboSamples + Math.max(task.samples, ...task.iwaeSamples);
}

const GOLDEN = 0x9e3779b9;

/**
 * The seed of the noise of batch j (0-based) of an evaluation seeded with `seed`:
 * (seed + j·0x9E3779B9) mod 2³². Each batch restarts the generator from its own seed, so a
 * row's estimate depends only on the seed, the batch size and its batch — not on which thread
 * evaluates the batch or in what order. Batch 0 uses `seed` itself.
 */
export function batchSeed(seed: number, j: number): number {
  return (seed + Math.imul(j, GOLDEN)) >>> 0;
}

/**
 * Evaluates `task` on the rows x `[B, P]` with the model's generator as it stands (the caller
 * reseeds it with `batchSeed`). `onSamples(c)` is called after every chunk of c samples per row.
 */
export async function evaluateBatch(vae: Vae, x: tf.Tensor2D, task: EvalTask, onSamples?: (samples: number) => void): Promise<BatchResult> {
  vae.checkInput(x, 'data');
  const b = x.shape[0];
  if (task.kind === 'log-likelihood') {
    const acc = new LogMeanExpAccumulator(b, task.samples);
    const diag = new ImportanceDiagnosticsAccumulator(b, task.samples);
    await streamLogWeights(vae, x, { samples: task.samples, chunk: task.chunk, ...(onSamples ? { onChunk: onSamples } : {}) }, (lw, c) => {
      acc.push(lw, c);
      diag.push(lw, c);
    });
    return { perRow: { logLikelihood: acc.value(), ess: diag.ess(), paretoK: diag.paretoK() }, flags: {} };
  }
  const { elboSamples, samples, chunk } = task;
  const ks = [...new Set(task.iwaeSamples)].sort((p, q) => p - q);
  const total = Math.max(samples, ks[ks.length - 1]!);
  const elbo = new Float64Array(b);
  const rec = new Float64Array(b);
  const kl = new Float64Array(b);
  let klExact = true;
  // ELBO averaged over S draws, chunked: the ELBO is linear in the per-draw terms.
  for (let done = 0; done < elboSamples; ) {
    const c = Math.min(chunk, elboSamples - done);
    const r = vae.elbo(x, { samples: c });
    klExact &&= r.klExact;
    const [e, re, k] = await Promise.all([r.elbo.data(), r.reconstruction.data(), r.kl.data()]);
    tf.dispose([r.elbo, r.reconstruction, r.kl]);
    for (let i = 0; i < b; i++) {
      elbo[i] = elbo[i]! + (c * e[i]!) / elboSamples;
      rec[i] = rec[i]! + (c * re[i]!) / elboSamples;
      kl[i] = kl[i]! + (c * k[i]!) / elboSamples;
    }
    done += c;
    onSamples?.(c);
  }
  const accs = ks.map((k) => new LogMeanExpAccumulator(b, k));
  const llAcc = new LogMeanExpAccumulator(b, samples);
  const diag = new ImportanceDiagnosticsAccumulator(b, samples);
  let drawn = 0;
  await streamLogWeights(vae, x, { samples: total, chunk, ...(onSamples ? { onChunk: onSamples } : {}) }, (lw, c) => {
    for (const a of accs) a.push(lw, c);
    diag.push(lw, c);
    if (drawn < samples) {
      const use = Math.min(c, samples - drawn);
      llAcc.push(use === c ? lw : lw.subarray(0, use * b), use);
    }
    drawn += c;
  });
  const perRow: Record<string, Float64Array> = { elbo, reconstruction: rec, kl, logLikelihood: llAcc.value(), ess: diag.ess(), paretoK: diag.paretoK() };
  ks.forEach((k, j) => (perRow[`iwae:${k}`] = accs[j]!.value()));
  return { perRow, flags: { klExact } };
}
