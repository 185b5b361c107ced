/**
 * A tightness-benchmark worker process (started by bench/tightness.ts with `node --import tsx`).
 * It receives jobs as JSON messages over the IPC channel, trains and evaluates one model per job
 * and answers with a `result` (or `error`) message. One worker per core; jobs run one at a time.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ContainerModule } from 'inversify';
import { createVae, selectBackend, tf, type Vae } from '../../plugins/index.js';
import { loadMnist } from '../../src/data/mnist.js';
import { loadFashionMnist } from '../../src/data/fashion-mnist.js';
import { takeRows } from '../../src/data/batches.js';
import type { Dataset } from '../../src/data/dataset.js';
import { train, type History } from '../../src/train/trainer.js';
import { trainScheduled } from './schedule.js';
import { changedWeights, decoderPriorBytes, frozenParts, trainAgainstFrozenDecoder, withFrozenDecoder, type FrozenParts } from '../../src/train/frozen-decoder.js';
import { amortizationGap } from '../../src/eval/amortization-gap.js';
import { subset } from '../../src/data/batches.js';
import { evaluateBounds } from './evaluate.js';
import type { FromWorker, Job, JobResult, Settings, ToWorker } from './types.js';
import type { JobStage } from './progress.js';
import { plural } from '../../src/plot/plural.js';

function send(m: FromWorker): void {
  process.send?.(m);
}

/** Loads user plugin modules: the default export (a ContainerModule or a list) or a `plugins` export. */
export async function loadPluginModules(paths: readonly string[]): Promise<ContainerModule[]> {
  const out: ContainerModule[] = [];
  for (const p of paths) {
    const mod = (await import(pathToFileURL(resolve(p)).href)) as { default?: unknown; plugins?: unknown };
    const value = mod.default ?? mod.plugins;
    const list = Array.isArray(value) ? value : [value];
    if (!value || list.some((m) => typeof m !== 'object' || m === null)) {
      throw new Error(`--plugin ${p}: expected the module to default-export an inversify ContainerModule (or a list of them); got ${typeof value}`);
    }
    out.push(...(list as ContainerModule[]));
  }
  return out;
}

const dataCache = new Map<string, Dataset>();

export function loadSplit(s: Pick<Settings, 'data' | 'trainRows' | 'testRows' | 'testBinarizeSeed'>, split: 'train' | 'test'): Dataset {
  const key = `${s.data}/${split}/${split === 'train' ? s.trainRows : `${s.testRows}/${s.testBinarizeSeed}`}`;
  let d = dataCache.get(key);
  if (!d) {
    const load = s.data === 'fashion-mnist' ? loadFashionMnist : loadMnist;
    d =
      split === 'train'
        ? load({ split, limit: s.trainRows, binarize: 'dynamic' })
        : load({ split, limit: s.testRows, binarize: 'static', seed: s.testBinarizeSeed });
    dataCache.set(key, takeRows(d, split === 'train' ? s.trainRows : s.testRows));
  }
  return d;
}

/** Writes a model's decoder and prior (spec + float32 values, base64) atomically. */
export function writeParts(path: string, parts: FrozenParts): void {
  const weights = Object.fromEntries(
    Object.entries(parts.weights).map(([n, w]) => [n, { shape: w.shape, data: Buffer.from(w.values.buffer, w.values.byteOffset, w.values.byteLength).toString('base64') }]),
  );
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ spec: parts.spec, weights }));
  renameSync(tmp, path);
}

export function readParts(path: string): FrozenParts {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { spec: FrozenParts['spec']; weights: Record<string, { shape: number[]; data: string }> };
  const weights: FrozenParts['weights'] = {};
  for (const [n, w] of Object.entries(raw.weights)) {
    const b = Buffer.from(w.data, 'base64');
    weights[n] = { shape: w.shape, values: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) };
  }
  return { spec: raw.spec, weights };
}

async function frozenSource(job: Job, plugins: ContainerModule[]): Promise<FrozenParts> {
  const from = job.frozenFrom!;
  if (from.kind === 'parts') return readParts(from.path);
  const { loadVae } = await import('../../src/train/saved-model.js');
  const vae = await loadVae(from.path, { plugins });
  try {
    return frozenParts(vae);
  } finally {
    vae.dispose();
  }
}

/** Trains (co-trained or against a frozen decoder) and evaluates one model. */
export async function runJob(job: Job, status: (text: string, stage?: JobStage) => void = () => {}): Promise<JobResult> {
  const s = job.settings;
  const plugins = await loadPluginModules(job.plugins);
  const trainSet = loadSplit(s, 'train');
  const testSet = loadSplit(s, 'test');
  let epochsDone = 0;
  const trainOptions = {
    epochs: s.epochs,
    batchSize: s.batchSize,
    learningRate: s.learningRate,
    objective: job.combo.objective ?? s.objective,
    seed: job.seed,
    progress: false,
    log: (line: string) => {
      // One "epoch e/E …" line per finished epoch (also across a schedule's chained phases).
      if (line.startsWith('epoch ')) epochsDone++;
      status(`train ${line}`, { stage: 'train', epochsDone, epochs: s.epochs });
    },
  };
  status(`start (${plural(trainSet.rows, 'row')} × ${plural(s.epochs, 'epoch')})`);
  const evaluate = async (vae: Vae, history: History, frozenUnchanged?: boolean): Promise<JobResult> => {
    const t0 = Date.now();
    const bounds = await evaluateBounds(vae, testSet, {
      elboSamples: s.elboSamples,
      iwaeSamples: s.iwaeSamples,
      llSamples: s.llSamples,
      batchSize: s.evalBatchSize,
      chunk: s.chunk,
      seed: job.seed + 1000,
      onBatch: (done) => status(`eval bounds ${done}/${testSet.rows} rows`, { stage: 'bounds', rowsDone: done, rows: testSet.rows }),
    });
    status(`eval amortisation gap (${Math.min(s.amortRows, testSet.rows)} rows, ${s.amortSteps} steps)`, { stage: 'amortization' });
    const a = Math.min(s.amortRows, testSet.rows);
    const am = await amortizationGap(vae, subset(testSet, 0, a), {
      steps: s.amortSteps,
      learningRate: s.amortLearningRate,
      stepElboSamples: s.amortSamples,
      elboSamples: s.amortEvalSamples,
      batchSize: s.evalBatchSize,
      seed: job.seed + 2000,
      logLikelihood: bounds.perRow.logLikelihood.subarray(0, a),
      progress: false,
    });
    const evalSeconds = (Date.now() - t0) / 1000;
    const epochs = history.epochs.length;
    const result: JobResult = {
      id: job.id,
      mode: job.mode,
      name: job.combo.name,
      seed: job.seed,
      encoderType: job.combo.model.encoder.type,
      parameters: {
        encoder: vae.parameterCount(['encoder']),
        decoder: vae.parameterCount(['likelihood']),
        prior: vae.parameterCount(['prior']),
        total: vae.parameterCount(),
      },
      epochs,
      secondsPerEpoch: epochs ? history.epochs.reduce((t, e) => t + e.seconds, 0) / epochs : 0,
      trainSeconds: history.seconds,
      evalSeconds,
      finalTrainBound: history.epochs[epochs - 1]?.trainBound ?? NaN,
      klExact: bounds.klExact,
      elbo: bounds.elbo,
      iwae: bounds.iwae,
      logLikelihood: bounds.logLikelihood,
      gap: bounds.gap,
      diagnostics: bounds.diagnostics,
      amortization: {
        rows: am.rows,
        encoderElbo: am.encoderElbo,
        optimizedElbo: am.optimizedElbo,
        amortizationGap: am.amortizationGap,
        improvedRows: am.improvedRows,
      },
      perRow: { elbo: Array.from(bounds.perRow.elbo), logLikelihood: Array.from(bounds.perRow.logLikelihood) },
    };
    if (frozenUnchanged !== undefined) result.frozenUnchanged = frozenUnchanged;
    return result;
  };

  const schedule = s.schedule && s.schedule.length > 1 ? s.schedule : null;
  if (job.mode === 'co-trained') {
    const vae = createVae(job.combo.model, { seed: job.seed, plugins });
    try {
      const history = schedule ? await trainScheduled(vae, trainSet, trainOptions, schedule) : await train(vae, trainSet, trainOptions);
      if (job.saveDecoderTo) writeParts(job.saveDecoderTo, frozenParts(vae));
      return await evaluate(vae, history);
    } finally {
      vae.dispose();
    }
  }
  const source = await frozenSource(job, plugins);
  if (schedule) {
    // The same checks as trainAgainstFrozenDecoder, with the schedule's chained train() calls.
    const vae = withFrozenDecoder(source, job.combo.model.encoder, { seed: job.seed, plugins });
    try {
      const before = decoderPriorBytes(vae);
      const history = await trainScheduled(vae, trainSet, { ...trainOptions, freeze: ['likelihood', 'prior'] }, schedule);
      const changed = changedWeights(before, decoderPriorBytes(vae));
      if (changed.length) throw new Error(`frozen decoder: training encoder "${job.combo.name}" changed frozen weights ${changed.join(', ')}`);
      return await evaluate(vae, history, true);
    } finally {
      vae.dispose();
    }
  }
  let result: JobResult | undefined;
  await trainAgainstFrozenDecoder(source, [{ name: job.combo.name, encoder: job.combo.model.encoder }], trainSet, {
    ...trainOptions,
    plugins,
    // trainAgainstFrozenDecoder throws when a frozen weight changed, so reaching onTrained means byte-identical.
    onTrained: async (r) => {
      result = await evaluate(r.vae, r.history, true);
    },
  });
  return result!;
}

async function main(): Promise<void> {
  const backend = await selectBackend(process.env.TIGHTNESS_BACKEND || 'auto', { quiet: true });
  send({ type: 'ready', backend });
  let queue = Promise.resolve();
  process.on('message', (m: ToWorker) => {
    if (m.type === 'exit') {
      void queue.then(() => process.exit(0));
      return;
    }
    const job = m.job;
    queue = queue.then(async () => {
      try {
        const cpu0 = process.cpuUsage();
        const result = await runJob(job, (text, stage) => send({ type: 'status', id: job.id, text, ...(stage ? { stage } : {}) }));
        const cpu = process.cpuUsage(cpu0);
        result.cpuSeconds = (cpu.user + cpu.system) / 1e6;
        send({ type: 'result', result });
      } catch (e) {
        send({ type: 'error', id: job.id, message: (e as Error).stack ?? String(e) });
      }
      const n = tf.memory().numTensors;
      if (n > 10_000) send({ type: 'status', id: job.id, text: `warning: ${n} live tensors after the job` });
    });
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.send) void main();
