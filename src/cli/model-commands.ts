import { resolve } from 'node:path';
import { kernelThreads } from '../backend/kernel-threads.js';
import { selectBackend } from '../backend/select-backend.js';
import { tf } from '../core/tf.js';
import { Random } from '../core/random.js';
import { datasetTensor } from '../data/batches.js';
import { boundReport, formatBoundReport } from '../eval/bound-report.js';
import { renderImageGrid, renderPairGrid } from '../plot/image-grid.js';
import { plural } from '../plot/plural.js';
import { exactEval, formatExactEval } from './exact-eval.js';
import { loadSavedModel, writeFileAtomic, type LoadedModel } from '../train/saved-model.js';
import { prepareOutputFile } from '../train/output-path.js';
import { CURVE_FILE, HISTORY_FILE } from './train-command.js';
import { checkDataFor, CliError, imageShapeFor, loadUserPlugins, messageOf, resolveEvalData, type CliIo } from './support.js';

interface ModelArgs {
  model: string;
  /** Load the previous save when the model's files were edited or damaged after their save. */
  usePrevious?: boolean;
  plugin?: string[];
  backend?: string;
  quiet?: boolean;
}

async function openModel(args: ModelArgs, io: CliIo): Promise<LoadedModel> {
  const plugins = (await loadUserPlugins(args.plugin)).map((p) => p.module);
  await selectBackend(args.backend ?? 'auto', { quiet: args.quiet ?? false });
  let loaded: LoadedModel;
  try {
    loaded = await loadSavedModel(args.model, { plugins, ...(args.usePrevious ? { usePrevious: true } : {}) });
  } catch (e) {
    throw new CliError(`--model ${messageOf(e)}`);
  }
  if (loaded.recovery) io.err(`vaekit: ${args.model}: ${loaded.recovery.found}; using the previous complete save (${loaded.recovery.previous})\n`);
  return loaded;
}

/** Checks --png before any work: not a directory, not a file of a saved model or run (it creates the folder). */
function checkPng(path: string): void {
  try {
    prepareOutputFile(path, '--png', [HISTORY_FILE, CURVE_FILE]);
  } catch (e) {
    throw new CliError(messageOf(e));
  }
}

function writePng(path: string, png: Buffer): void {
  try {
    writeFileAtomic(path, png);
  } catch (e) {
    throw new CliError(`--png ${messageOf(e)}`);
  }
}

/** Rows `vaekit eval` uses when neither --rows nor data.testLimit says (log p̂ with K = 1000 on 10,000 rows takes long on wasm). */
export const DEFAULT_EVAL_ROWS = 1000;

export interface EvalArgs extends ModelArgs {
  samples?: number;
  elboSamples?: number;
  data?: string;
  rows?: number;
  seed?: number;
  json?: boolean;
  workers?: number | 'auto';
}

/** Parses `--workers`: a positive integer or `auto`. */
export function workersOption(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--workers: expected a positive integer or auto; got ${JSON.stringify(value)}`);
  return n;
}

/**
 * `vaekit eval`: the bound report of a saved model — ELBO, IWAE_K for the configured K up to
 * `--samples`, log p̂(x) with `--samples` importance samples and the gap log p̂(x) − ELBO.
 */
export async function evalCommand(args: EvalArgs, io: CliIo): Promise<number> {
  const { vae, config } = await openModel(args, io);
  try {
    const rows = args.rows ?? config.data.testLimit ?? DEFAULT_EVAL_ROWS;
    const data = resolveEvalData(config, args.data, rows, args.rows !== undefined ? '--rows' : undefined);
    if (args.rows === undefined && config.data.testLimit === undefined && data.rows === DEFAULT_EVAL_ROWS && !args.quiet) {
      io.err(`vaekit: evaluating the first ${DEFAULT_EVAL_ROWS} rows (pass --rows N for more, e.g. --rows 10000 for the whole MNIST test set)\n`);
    }
    checkDataFor(vae, data, `--data ${args.data ?? `(${config.data.name} test split)`}`);
    const samples = args.samples ?? config.eval.samples;
    const ks = [...new Set([...config.eval.iwaeSamples.filter((k) => k < samples), samples])];
    const started = performance.now();
    const report = await boundReport(vae, data, {
      elboSamples: args.elboSamples ?? config.eval.elboSamples,
      iwaeSamples: ks,
      samples,
      seed: args.seed ?? 1,
      progress: !(args.quiet ?? false) && process.env.VAEKIT_QUIET !== '1',
      workers: args.workers ?? 'auto',
      // Workers rebuild the model from its spec: they import the same --plugin files.
      pluginModules: (args.plugin ?? []).map((p) => resolve(p)),
    });
    const seconds = (performance.now() - started) / 1000;
    if (!args.quiet && process.env.VAEKIT_QUIET !== '1') {
      // One evaluation thread may still split its kernels over the cores (kernel threads).
      const kernels = report.threads === 1 && kernelThreads() > 1 ? `, its kernels on ${kernelThreads()} threads` : '';
      io.err(`vaekit: evaluated ${data.rows} rows in ${seconds.toFixed(1)} s (${(data.rows / seconds).toFixed(1)} rows/s) on ${report.threads} thread${report.threads === 1 ? '' : 's'}${kernels}\n`);
    }
    const exact = await exactEval(vae, config, data, { elboSamples: args.elboSamples ?? config.eval.elboSamples, seed: args.seed ?? 1, progress: !(args.quiet ?? false) && process.env.VAEKIT_QUIET !== '1' });
    if (args.json) io.out(`${JSON.stringify(exact ? { ...report, exact } : report, null, 2)}\n`);
    else io.out(`${formatBoundReport(report, { title: `${args.model} on ${data.name} (${plural(data.rows, 'row')})` })}${exact ? `\n${formatExactEval(exact, report)}` : ''}\n`);
    return 0;
  } finally {
    vae.dispose();
  }
}

export interface SampleArgs extends ModelArgs {
  n: number;
  png: string;
  seed?: number;
  draw?: boolean;
}

/** `vaekit sample`: n draws z ~ p(z) decoded to E[x|z] (or a draw of x with --draw), as an image grid. */
export async function sampleCommand(args: SampleArgs, io: CliIo): Promise<number> {
  checkPng(args.png);
  const { vae, config } = await openModel(args, io);
  try {
    const shape = imageShapeFor(config);
    vae.random.reseed(args.seed ?? 1);
    const x = vae.sample(args.n, { draw: args.draw ?? false });
    const values = (await x.data()) as Float32Array;
    x.dispose();
    let png: Buffer;
    try {
      const m = config.model;
      const caption =
        `${plural(args.n, 'sample')} from ${args.model}: ${args.draw ? 'draws x ~ p(x|z)' : 'means E[x|z]'}, z ~ p(z), seed ${args.seed ?? 1}\n` +
        `${m.encoder.type} encoder, ${m.prior.type} prior, ${m.likelihood.type} likelihood, D\u00a0=\u00a0${m.latentDim}, trained on ${config.data.name}`;
      png = renderImageGrid(values, vae.dataDim, { ...(shape ? { imageShape: shape } : {}), caption });
    } catch (e) {
      throw new CliError(`--png: ${messageOf(e)}`);
    }
    writePng(args.png, png);
    let mean = 0;
    for (const v of values) mean += v;
    io.out(`wrote ${args.png}: ${plural(args.n, 'sample')} from ${args.model} (${args.draw ? 'draws of x' : 'means E[x|z]'}), mean pixel value ${(mean / values.length).toFixed(4)}\n`);
    return 0;
  } finally {
    vae.dispose();
  }
}

export interface ReconstructArgs extends ModelArgs {
  n: number;
  /** `n` is the default, not given by the user: then it is cut to the rows the data has (a given --n beyond them is an error). */
  nIsDefault?: boolean;
  png: string;
  data?: string;
}

/** `vaekit reconstruct`: the first n rows of the data beside E[x|z] at the encoder's mode of z. */
export async function reconstructCommand(args: ReconstructArgs, io: CliIo): Promise<number> {
  checkPng(args.png);
  const { vae, config } = await openModel(args, io);
  try {
    const data = resolveEvalData(config, args.data, args.n, args.nIsDefault ? undefined : '--n');
    checkDataFor(vae, data, `--data ${args.data ?? `(${config.data.name} test split)`}`);
    const n = Math.min(args.n, data.rows);
    // The inputs as the model sees them: a dynamically binarised set is binarised once (seed 0, as in eval).
    const x = datasetTensor(data, { end: n, ...(data.binarize === 'dynamic' ? { random: new Random(0) } : {}) });
    const r = vae.reconstruct(x);
    const [inputs, recon] = (await Promise.all([x.data(), r.data()])) as [Float32Array, Float32Array];
    const mse = tf.tidy(() => tf.mean(tf.square(tf.sub(x, r))).dataSync()[0]!);
    tf.dispose([x, r]);
    const shape = imageShapeFor(config, data);
    let png: Buffer;
    try {
      const source = args.data ?? `the ${config.data.name} test split`;
      const caption =
        `${n === 1 ? 'Row 1' : `Rows 1–${n}`} of ${source} (left of each pair) and their reconstructions E[x|z] at the mode of q(z|x) (right, under the orange bar)\n` +
        `${args.model}: ${config.model.encoder.type} encoder, ${config.model.likelihood.type} likelihood, D\u00a0=\u00a0${config.model.latentDim}; mean squared error ${mse.toFixed(4)}`;
      png = renderPairGrid(inputs, recon, vae.dataDim, { ...(shape ? { imageShape: shape } : {}), caption });
    } catch (e) {
      throw new CliError(`--png: ${messageOf(e)}`);
    }
    writePng(args.png, png);
    io.out(`wrote ${args.png}: ${plural(n, 'input')} (left) beside their reconstructions (right, under the orange bar) from ${args.model}; mean squared error ${mse.toFixed(4)}\n`);
    return 0;
  } finally {
    vae.dispose();
  }
}
