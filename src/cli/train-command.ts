import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { selectBackend } from '../backend/select-backend.js';
import { createVae } from '../config/create-vae.js';
import { parseConfig, type VaeConfig } from '../config/schema.js';
import type { Vae } from '../core/vae.js';
import { renderChart } from '../plot/chart.js';
import { disposeState, loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import { CONFIG_FILE, MODEL_FILE, previousName, writeFileAtomic } from '../train/saved-model.js';
import { removeOrphans } from '../train/file-set.js';
import { ensureDirectory, removeCreated } from '../train/output-path.js';
import { DirectoryLockedError, LOCK_HOLDER_NAME, LOCK_NAME, lockDirectory, type DirectoryLock } from '../train/run-lock.js';
import { NonFiniteLossError, train, type EpochRecord } from '../train/trainer.js';
import { checkDataFor, CliError, loadConfigData, loadUserPlugins, messageOf, readConfigFile, type CliIo } from './support.js';

export interface TrainArgs {
  config?: string;
  out?: string;
  resume?: boolean;
  force?: boolean;
  epochs?: number;
  /** Overrides train.learningRate (allowed with --resume: continue a run with another rate). */
  learningRate?: number;
  /** With --resume: continue from the previous checkpoint when the last one's files were edited or damaged. */
  usePrevious?: boolean;
  plugin?: string[];
  backend?: string;
  quiet?: boolean;
}

export const HISTORY_FILE = 'history.json';
export const CURVE_FILE = 'bound.png';
/** Every file `vaekit train` writes in a run directory (what `--force` removes). */
export const RUN_FILES = [CONFIG_FILE, MODEL_FILE, 'weights.bin', 'optimizer.bin', HISTORY_FILE, CURVE_FILE];

/** The section of the config that differs between a run and a resume of it (train.epochs and train.learningRate may). */
function sameRun(saved: VaeConfig, given: VaeConfig): string | null {
  const open = (t: VaeConfig['train']) => ({ ...t, epochs: 0, learningRate: 0 });
  const strip = (c: VaeConfig) => JSON.stringify({ ...c, train: open(c.train) });
  if (strip(saved) === strip(given)) return null;
  for (const section of ['model', 'data', 'train', 'eval', 'backend'] as const) {
    const a = section === 'train' ? open(saved.train) : saved[section];
    const b = section === 'train' ? open(given.train) : given[section];
    if (JSON.stringify(a) !== JSON.stringify(b)) return section;
  }
  return 'config';
}

/** The bound-vs-epoch curve of a history, as PNG. */
export function boundCurve(history: readonly EpochRecord[], config: VaeConfig): Buffer {
  const obj = config.train.objective;
  const trainName = obj.type === 'iwae' ? `train IWAE_${obj.samples ?? 1}` : `train ELBO${config.train.warmup > 0 ? ' (β-weighted)' : ''}`;
  const series = [{ name: trainName, points: history.map((h) => [h.epoch, h.trainBound] as [number, number]) }];
  if (history.some((h) => h.validElbo !== undefined)) {
    series.push({ name: 'validation ELBO', points: history.filter((h) => h.validElbo !== undefined).map((h) => [h.epoch, h.validElbo!] as [number, number]) });
  }
  const m = config.model;
  return renderChart({
    title: 'Bound vs epoch',
    subtitle: `${m.encoder.type} encoder, ${m.likelihood.type} likelihood, D = ${m.latentDim}, ${config.data.name}`,
    xLabel: 'epoch',
    yLabel: 'bound (nats per data point)',
    series,
    legend: true,
  });
}

function writeHistory(dir: string, history: readonly EpochRecord[], config: VaeConfig): void {
  writeFileAtomic(join(dir, HISTORY_FILE), `${JSON.stringify({ objective: config.train.objective, epochs: history }, null, 2)}\n`);
  if (history.length > 0) writeFileAtomic(join(dir, CURVE_FILE), boundCurve(history, config));
}

/**
 * What to do after training stopped on a non-finite value: continue from the last good checkpoint
 * with a lower learning rate (`--resume --learning-rate`: a tenth of the current one, at most
 * 0.001, Adam's usual rate), or start afresh. The command is complete (run directory and plugins).
 */
export function afterNonFinite(out: string, lastSaved: number, config: VaeConfig, args: Pick<TrainArgs, 'plugin' | 'config'>): string {
  const lr = config.train.learningRate;
  const lower = Number(Math.min(lr / 10, 0.001).toPrecision(3));
  const plugins = (args.plugin ?? []).map((p) => ` --plugin ${p}`).join('');
  return (
    `The last good checkpoint (epoch ${lastSaved}) is kept in ${out}. Continue from it with a lower learning rate (now ${lr}):\n` +
    `  vaekit train --out ${out} --resume --learning-rate ${lower}${plugins}\n` +
    `or start afresh with a lower train.learningRate or a train.warmup in ${args.config ?? 'the config'}, with --force.`
  );
}

/**
 * `vaekit train`: locks the run directory (a second writer is refused, naming the holder's PID),
 * validates everything (config, plugins, data) before changing it, then trains with a checkpoint
 * after every epoch (and one of the initial weights), writing history.json and the
 * bound-vs-epoch curve as it goes.
 */
export async function trainCommand(args: TrainArgs, io: CliIo): Promise<number> {
  if (!args.config && !args.resume) throw new CliError('train: --config <file> is required (or --resume with --out <run directory>)');
  if (args.resume && args.force) throw new CliError('train: --resume and --force contradict each other (--force starts afresh); pass one');
  const out = args.out ?? (args.config ? join('runs', basename(args.config, extname(args.config))) : undefined);
  if (!out) throw new CliError('train: --resume needs --out <run directory> (or --config, whose name gives runs/<name>)');
  const exists = existsSync(out);
  if (exists && !statSync(out).isDirectory()) throw new CliError(`--out ${out}: exists and is not a directory`);
  if (args.resume && !exists) throw new CliError(`--resume: ${out} holds no run to resume (train without --resume first)`);
  // One writer per run directory, from here to the end: a second `vaekit train` is refused here,
  // naming the holder, before it reads or changes anything.
  let created: string[];
  try {
    created = ensureDirectory(out, `--out ${out}`);
  } catch (e) {
    throw new CliError(messageOf(e));
  }
  let lock: DirectoryLock;
  let told = false;
  try {
    lock = await lockDirectory(out, {
      onWait: (holder) => {
        if (!told) io.err(`vaekit: ${out} is locked by ${holder ? `PID ${holder.pid}, which no longer runs` : 'a process that no longer runs'}; taking the lock over once it is stale (up to 10 s)\n`);
        told = true;
      },
    });
  } catch (e) {
    removeCreated(created);
    throw new CliError(e instanceof DirectoryLockedError ? `--out ${e.message}` : `--out ${out}: ${messageOf(e)}`);
  }
  try {
    return await lockedTrain(args, io, out, exists);
  } finally {
    await lock.release();
    // Directories this command made and left empty (it failed before writing) go again.
    removeCreated(created);
  }
}

const isLockFile = (name: string) => name === LOCK_NAME || name === LOCK_HOLDER_NAME;

async function lockedTrain(args: TrainArgs, io: CliIo, out: string, existed: boolean): Promise<number> {
  const userPlugins = await loadUserPlugins(args.plugin);
  const plugins = userPlugins.map((p) => p.module);
  const pluginPaths = userPlugins.map((p) => p.absolute);
  const nonEmpty = existed && readdirSync(out).some((f) => !isLockFile(f));

  let config: VaeConfig;
  let checkpoint: LoadedCheckpoint | null = null;
  if (args.resume) {
    if (!nonEmpty) throw new CliError(`--resume: ${out} holds no run to resume (train without --resume first)`);
    await selectBackend(args.backend ?? 'auto', { quiet: args.quiet ?? false });
    try {
      checkpoint = await loadCheckpoint(out, { plugins, ...(args.usePrevious ? { usePrevious: true } : {}) });
    } catch (e) {
      throw new CliError(`--resume: ${messageOf(e)}`);
    }
    if (checkpoint.recovery) io.err(`vaekit: ${checkpoint.recovery.found}; resuming from the previous complete checkpoint (epoch ${checkpoint.epoch})\n`);
    config = checkpoint.config;
    if (args.config) {
      const given = readConfigFile(args.config);
      const diff = sameRun(config, given);
      if (diff) {
        checkpoint.vae.dispose();
        disposeState(checkpoint.state);
        throw new CliError(
          `--resume: ${args.config} differs from the run's ${join(out, CONFIG_FILE)} in "${diff}"; only train.epochs and train.learningRate may change when resuming (start a new run with --out, or --force to overwrite this one)`,
        );
      }
      config = given;
    }
  } else {
    if (nonEmpty && !args.force) {
      throw new CliError(`--out ${out}: the directory already exists and is not empty; pass --resume to continue its run, --force to overwrite it, or choose another --out`);
    }
    config = readConfigFile(args.config!);
  }
  if (args.epochs !== undefined) config = parseConfig({ ...config, train: { ...config.train, epochs: args.epochs } });
  if (args.learningRate !== undefined) {
    try {
      config = parseConfig({ ...config, train: { ...config.train, learningRate: args.learningRate } });
    } catch (e) {
      if (checkpoint) {
        checkpoint.vae.dispose();
        disposeState(checkpoint.state);
      }
      throw new CliError(`--learning-rate: ${messageOf(e)}`);
    }
  }

  if (!checkpoint) await selectBackend(args.backend ?? config.backend, { quiet: args.quiet ?? false });
  let vae: Vae;
  if (checkpoint) vae = checkpoint.vae;
  else {
    try {
      vae = createVae(config, { plugins });
    } catch (e) {
      throw new CliError(`${args.config}: ${messageOf(e)}`);
    }
  }

  try {
    const data = loadConfigData(config);
    checkDataFor(vae, data.train, 'training data');
    if (data.validation) checkDataFor(vae, data.validation, 'validation data');

    const start = checkpoint?.epoch ?? 0;
    const epochs = config.train.epochs;
    if (checkpoint && start >= epochs) {
      io.out(`${out}: already trained for ${start} epoch${start === 1 ? '' : 's'} (train.epochs = ${epochs}); pass --epochs N (N > ${start}) to train further\n`);
      return 0;
    }

    // Everything is valid: now the run directory may change. Temporary files of killed runs go first.
    removeOrphans(out);
    if (!args.resume) {
      if (nonEmpty) for (const f of RUN_FILES) for (const name of [f, previousName(f)]) rmSync(join(out, name), { force: true });
      await saveCheckpoint(out, vae, null, { config, plugins: pluginPaths });
    }
    const quiet = args.quiet ?? false;
    if (!quiet) io.err(
      `vaekit: training ${config.model.encoder.type} encoder + ${config.model.likelihood.type} likelihood (D = ${config.model.latentDim}, ${vae.parameterCount()} parameters) ` +
        `on ${data.train.rows} ${config.data.name} rows, epochs ${start + 1}–${epochs}, into ${out}\n`,
    );
    let lastSaved = start;
    const history: EpochRecord[] = [...(checkpoint?.history ?? [])];
    try {
      const t = config.train;
      await train(vae, data.train, {
        epochs,
        batchSize: t.batchSize,
        learningRate: t.learningRate,
        objective: t.objective,
        warmup: t.warmup,
        freeBits: t.freeBits,
        seed: t.seed,
        ...(data.validation ? { validation: data.validation } : {}),
        ...(checkpoint?.state ? { resume: checkpoint.state } : {}),
        quiet,
        log: (line) => (quiet ? undefined : io.err(`${line}\n`)),
        onEpochEnd: async (record, capture) => {
          const state = await capture();
          try {
            await saveCheckpoint(out, vae, state, { config, plugins: pluginPaths });
          } finally {
            disposeState(state);
          }
          lastSaved = record.epoch;
          history.push(record);
          writeHistory(out, history, config);
        },
      });
    } catch (e) {
      if (e instanceof NonFiniteLossError) throw new CliError(`${e.message}.\n${afterNonFinite(out, lastSaved, config, args)}`);
      throw e;
    }
    const last = history[history.length - 1];
    io.out(
      `trained ${out}: ${history.length} epoch${history.length === 1 ? '' : 's'}` +
        (last ? `, final train bound ${last.trainBound.toFixed(2)} nats${last.validElbo !== undefined ? `, validation ELBO ${last.validElbo.toFixed(2)}` : ''}` : '') +
        '\n' +
        `wrote ${join(out, CONFIG_FILE)}, ${join(out, MODEL_FILE)} + weights.bin (checkpoint of epoch ${lastSaved}), ${join(out, HISTORY_FILE)}, ${join(out, CURVE_FILE)}\n` +
        `next: vaekit eval --model ${out}   |   vaekit sample --model ${out} --png samples.png\n`,
    );
    return 0;
  } finally {
    disposeState(checkpoint?.state);
    vae.dispose();
  }
}
