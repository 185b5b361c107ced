import type { Vae } from '../../src/core/vae.js';
import { LogMeanExpAccumulator, streamLogWeights } from '../../src/eval/log-likelihood.js';
import { rowBatches, rowCount, type EvalData } from '../../src/eval/rows.js';
import { difference, meanStdErr, type Estimate } from '../../src/eval/stats.js';
import { ImportanceDiagnosticsAccumulator, summarizeDiagnostics, type ImportanceDiagnostics } from '../../src/eval/importance-diagnostics.js';

export interface TestBounds {
  rows: number;
  klExact: boolean;
  elbo: Estimate;
  iwae: { samples: number; mean: number; stdErr: number }[];
  logLikelihood: Estimate;
  gap: Estimate;
  /** ESS and PSIS k̂ of the llSamples weights of log p̂(x), summarised over rows. */
  diagnostics: ImportanceDiagnostics;
  perRow: { elbo: Float64Array; logLikelihood: Float64Array };
}

/**
 * The bounds of one model on the test rows, with per-row values (which `boundReport` does not
 * keep and the frozen-decoder table needs): the ELBO averaged over S draws per row; one stream
 * of max(llSamples, max K) log-weights per row from which IWAE_K is the mean of ⌊total/K⌋
 * disjoint groups of K and log p̂(x) = log (1/K_ll) Σ w over the first llSamples draws
 * (Burda et al. 2015, arXiv:1509.00519). gap = log p̂(x) − ELBO ≈ KL(q(z|x) ‖ p(z|x)).
 */
export async function evaluateBounds(
  vae: Vae,
  data: EvalData,
  o: { elboSamples: number; iwaeSamples: number[]; llSamples: number; batchSize: number; chunk: number; seed: number; onBatch?: (rowsDone: number) => void },
): Promise<TestBounds> {
  const n = rowCount(data);
  const ks = [...new Set(o.iwaeSamples)].sort((a, b) => a - b);
  const total = Math.max(o.llSamples, ks[ks.length - 1] ?? 1);
  vae.random.reseed(o.seed);
  const elbo = new Float64Array(n);
  const ll = new Float64Array(n);
  const ess = new Float64Array(n);
  const paretoK = new Float64Array(n);
  const iw = ks.map(() => new Float64Array(n));
  let klExact = true;
  for (const { x, start, end } of rowBatches(data, o.batchSize)) {
    const b = end - start;
    for (let done = 0; done < o.elboSamples; ) {
      const c = Math.min(o.chunk, o.elboSamples - done);
      const r = vae.elbo(x, { samples: c });
      klExact &&= r.klExact;
      const e = (await r.elbo.data()) as Float32Array;
      r.elbo.dispose();
      r.reconstruction.dispose();
      r.kl.dispose();
      for (let i = 0; i < b; i++) elbo[start + i] = elbo[start + i]! + (c * e[i]!) / o.elboSamples;
      done += c;
    }
    const accs = ks.map((k) => new LogMeanExpAccumulator(b, k));
    const llAcc = new LogMeanExpAccumulator(b, o.llSamples);
    const diag = new ImportanceDiagnosticsAccumulator(b, o.llSamples);
    let drawn = 0;
    await streamLogWeights(vae, x, { samples: total, chunk: o.chunk }, (lw, c) => {
      for (const a of accs) a.push(lw, c);
      diag.push(lw, c);
      if (drawn < o.llSamples) {
        const use = Math.min(c, o.llSamples - drawn);
        llAcc.push(use === c ? lw : lw.subarray(0, use * b), use);
      }
      drawn += c;
    });
    accs.forEach((a, j) => iw[j]!.set(a.value(), start));
    ll.set(llAcc.value(), start);
    ess.set(diag.ess(), start);
    paretoK.set(diag.paretoK(), start);
    o.onBatch?.(end);
  }
  return {
    rows: n,
    klExact,
    elbo: meanStdErr(elbo),
    iwae: ks.map((k, j) => ({ samples: k, ...meanStdErr(iw[j]!) })),
    logLikelihood: meanStdErr(ll),
    gap: meanStdErr(difference(ll, elbo)),
    diagnostics: summarizeDiagnostics(ess, paretoK, o.llSamples),
    perRow: { elbo, logLikelihood: ll },
  };
}
