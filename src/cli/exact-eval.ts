/**
 * What `vaekit eval` adds on a data set with an exact log p(x) (the linear-Gaussian set): the
 * exact log p(x) of the data-generating model, and — for a VAE whose decoder is linear Gaussian
 * with an N(0, I) prior (PPCA's model) — the model's own exact log p(x), the exact gap
 * log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)) and how far the importance-sampled log p̂(x) falls short.
 */
import type { Vae } from '../core/vae.js';
import type { Dataset } from '../data/dataset.js';
import type { VaeConfig } from '../config/schema.js';
import type { BoundReport } from '../eval/bound-report.js';
import { exactVaeReport, type ExactVaeReport } from '../eval/ppca.js';
import { meanStdErr, type Estimate } from '../eval/stats.js';
import { loadConfigData, messageOf } from './support.js';

export interface ExactEval {
  /** Mean exact log p(x) of the rows under the data-generating model. */
  dataLogLikelihood: Estimate;
  /** The VAE's exact report, or why there is none. */
  model: ExactVaeReport | { unavailable: string };
}

const fmt = (e: Estimate) => `${e.mean.toFixed(3)} ± ${e.stdErr.toFixed(3)}`;

/** The exact numbers for `data` when it is the config's linear-Gaussian set (null otherwise). */
export async function exactEval(vae: Vae, config: VaeConfig, data: Dataset, options: { elboSamples: number; seed: number; progress: boolean }): Promise<ExactEval | null> {
  if (config.data.name !== 'linear-gaussian' || data.name !== 'linear-gaussian') return null;
  const truth = loadConfigData({ ...config, data: { ...config.data, limit: 1, testLimit: 1, validation: 0 } }).model;
  if (!truth || truth.dataDim !== data.dim) return null;
  const dataLogLikelihood = meanStdErr(Array.from(truth.logProb(data.x)));
  let model: ExactEval['model'];
  try {
    model = await exactVaeReport(vae, data, { elboSamples: options.elboSamples, seed: options.seed, trueModel: truth, progress: options.progress });
  } catch (e) {
    model = { unavailable: messageOf(e) };
  }
  return { dataLogLikelihood, model };
}

/** The exact section under the bound report, in Markdown. */
export function formatExactEval(x: ExactEval, report: BoundReport): string {
  const lines = ['', '### Exact (linear-Gaussian data)', ''];
  lines.push(`| quantity | mean | ± s.e. |`, `|---|---:|---:|`);
  const row = (name: string, e: Estimate) => lines.push(`| ${name.replace(/\|/g, '\\|')} | ${e.mean.toFixed(3)} | ${e.stdErr.toFixed(3)} |`);
  row('log p(x) under the data-generating model', x.dataLogLikelihood);
  if ('unavailable' in x.model) {
    lines.push('', `The model's own exact log p(x) is not available: ${x.model.unavailable}. Its log p̂(x) above is the importance-sampled estimate.`);
    return lines.join('\n');
  }
  const m = x.model;
  row("log p(x) under the model (exact: N(x; b, WWᵀ + σ²I))", m.logLikelihood);
  row(`ELBO (${m.elboSamples} samples per row)`, m.elbo);
  row('exact gap log p(x) − ELBO = KL(q(z|x) ‖ p(z|x))', m.gap);
  if (m.klToPosterior) row('KL(q(z|x) ‖ p(z|x)) in closed form', m.klToPosterior);
  lines.push(
    '',
    `The importance-sampled log p̂(x) (K = ${report.samples}) is ${(report.logLikelihood.mean - m.logLikelihood.mean).toFixed(3)} nats from the exact ` +
      `${m.logLikelihood.mean.toFixed(3)}, and its gap log p̂(x) − ELBO = ${fmt(report.gap)} against the exact ${fmt(m.gap)}; ` +
      `the model is ${(x.dataLogLikelihood.mean - m.logLikelihood.mean).toFixed(3)} nats short of the data-generating model.`,
  );
  return lines.join('\n');
}
