import { tf } from '../core/tf.js';
import { Random } from '../core/random.js';
import { checkPositiveInt } from '../core/checks.js';
import { PARTS, type Part, type Vae } from '../core/vae.js';
import type { Dataset } from '../data/dataset.js';
import { batches } from '../data/batches.js';
import { Adam } from '../nn/adam.js';
import { createProgress } from '../eval/progress.js';
import { checkOptionKeys, optionKeys } from '../core/option-keys.js';
import { meanElbo, type ObjectiveSpec } from './training-loss.js';
import { isObjective, type Objective } from '../core/objective.js';
import { defaultSyncEvery, GuardedStepper, type GradientFn, type RandomState } from './guarded-stepper.js';
import type { NamedVariable } from '../core/variables.js';
import { checkTrainOptions } from './train-options.js';
import { ensureBackend } from '../backend/select-backend.js';
import type { ParallelGradients } from './parallel/parallel-gradients.js';
import { hostStderr, writeStderrLine } from '../core/host-env.js';

export { meanElbo, trainingLoss, type ObjectiveSpec } from './training-loss.js';
export { defaultSyncEvery, GuardedStepper, NonFiniteLossError, stepUnlessNonFinite, trainingStep, type GradientFn, type RandomState } from './guarded-stepper.js';

export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  /**
   * The objective: a config spec (`{ "type": "iwae", "samples": 10, "gradient": "dreg" }`, built
   * with the Vae's registered objective plugins) or a built `Objective`. Default `{ "type": "elbo" }`.
   */
  objective?: ObjectiveSpec | Objective;
  /** β rises linearly from 0 to 1 over this many epochs (per step); 0 keeps β = 1. */
  warmup?: number;
  /**
   * Free bits (Kingma et al. 2016, arXiv:1606.04934), in nats per latent dimension: the KL term
   * of the ELBO objective is max(mean_B KL, freeBits·D), so the batch KL is not pushed below it.
   * 0 (the default) is off. Applies to the `elbo` objective.
   */
  freeBits?: number;
  /** Seeds shuffling, dynamic binarisation and the encoder's noise. */
  seed?: number;
  /** Parts left untouched (e.g. `['likelihood', 'prior']` trains the encoder of a frozen model). */
  freeze?: readonly Part[];
  /** Evaluated after every epoch (ELBO, `validationSamples` samples per row). */
  validation?: Dataset;
  validationSamples?: number;
  /** Progress bar on a terminal; plain lines per epoch otherwise. Default: stderr is a TTY. */
  progress?: boolean;
  /** Where per-epoch lines go (default: stderr, unless `quiet`). */
  log?: (line: string) => void;
  quiet?: boolean;
  /**
   * Called after each epoch with its record and a function that captures the trainer state
   * (a copy: the caller owns its tensors and disposes them after saving).
   */
  onEpochEnd?: (record: EpochRecord, state: () => Promise<TrainerState>) => void | Promise<void>;
  /** Continue from a state captured by `onEpochEnd` (a checkpoint). */
  resume?: TrainerState;
  /**
   * Steps between reads of the loss from the backend (default `defaultSyncEvery`: up to 50 at
   * batch 100 on 784-pixel rows). 1 reads and checks every step before its update.
   */
  syncEvery?: number;
  /**
   * Data-parallel threads one run trains on (see `ParallelGradients`): 1 (the default) keeps the
   * model on the calling thread, whose large matrix products are still split over the machine's
   * cores by vaekit's kernel threads (`setKernelThreads`, 'auto' by default: same bits as one
   * thread); n > 1 splits each batch over the calling thread and n − 1 worker threads, each
   * with one kernel thread,
   * with the same result up to float32 summation order. Falls back to one thread, with a log
   * line saying why, where workers cannot run the model or the objective (e.g. free bits, user
   * plugin modules, an objective given as a built object).
   */
  threads?: number;
}

export interface EpochRecord {
  epoch: number;
  /** Mean training objective over the epoch's batches (the β-weighted ELBO or IWAE_K), nats. */
  trainBound: number;
  /** ELBO on the validation set after the epoch, nats (when a validation set is given). */
  validElbo?: number;
  beta: number;
  seconds: number;
  steps: number;
}

export interface History {
  epochs: EpochRecord[];
  /** Total optimiser steps taken. */
  steps: number;
  seconds: number;
}

/** Everything needed to continue training exactly where it stopped. */
export interface TrainerState {
  /** Epochs completed. */
  epoch: number;
  steps: number;
  /** Adam's iteration count and moments, in the order of the trained variables. */
  optimizer: { name: string; tensor: tf.Tensor }[];
  modelRandom: RandomState;
  dataRandom: RandomState;
  history: EpochRecord[];
}

/**
 * The gradients of an objective's surrogates w.r.t. the trained variables (in their order). When
 * the objective has a separate encoder surrogate (DReG) and both the encoder and other parts are
 * trained, two passes over the same noise: the decoder's and prior's gradients of `loss`, then,
 * with the random stream restored, the encoder's of `encoderLoss`. The value is `loss`.
 */
export function objectiveGradients(vae: Vae, objective: Objective, trained: readonly NamedVariable[], freeBits: number): GradientFn {
  const all = trained.map((v) => v.variable);
  const isEncoder = trained.map((v) => v.name.startsWith('encoder/'));
  const encoder = all.filter((_, i) => isEncoder[i]);
  const model = all.filter((_, i) => !isEncoder[i]);
  const ctx = (beta: number) => ({ beta, freeBits, random: vae.random });
  const pass = (x: tf.Tensor2D, beta: number, which: 'loss' | 'encoderLoss', vars: tf.Variable[]) =>
    tf.variableGrads(() => {
      const r = objective.compute(vae, x, ctx(beta));
      return r[which] ?? r.loss;
    }, vars);
  if (!objective.separateEncoderLoss || encoder.length === 0 || model.length === 0) {
    const which = objective.separateEncoderLoss && model.length === 0 ? 'encoderLoss' : 'loss';
    return (x, beta) => {
      const { value, grads } = pass(x, beta, which, all);
      return { value, grads: all.map((v) => grads[v.name]!) };
    };
  }
  return (x, beta) => {
    const start = vae.random.getState();
    const m = pass(x, beta, 'loss', model);
    let e: ReturnType<typeof pass>;
    try {
      vae.random.setState(start);
      e = pass(x, beta, 'encoderLoss', encoder);
    } catch (err) {
      tf.dispose([m.value, ...Object.values(m.grads)]);
      throw err;
    }
    e.value.dispose();
    return { value: m.value, grads: all.map((v, i) => (isEncoder[i] ? e.grads[v.name]! : m.grads[v.name]!)) };
  };
}

/**
 * The data-parallel trainer (Node's worker threads), imported only when `threads` > 1 and through
 * a variable specifier, so browser bundles leave it out (the browser trains on one thread).
 */
function importParallel(): Promise<typeof import('./parallel/parallel-gradients.js')> {
  const specifier = './parallel/parallel-gradients.js';
  return import(/* @vite-ignore */ specifier) as Promise<typeof import('./parallel/parallel-gradients.js')>;
}

/** Every key of `TrainOptions` (checked exhaustive by the compiler): any other key is an error. */
const TRAIN_OPTIONS = optionKeys<TrainOptions>()(
  'epochs', 'batchSize', 'learningRate', 'objective', 'warmup', 'freeBits', 'seed', 'freeze', 'validation', 'validationSamples', 'progress', 'log', 'quiet', 'onEpochEnd', 'resume', 'syncEvery', 'threads',
);

/**
 * Trains with Adam on an objective (the β-weighted ELBO by default, with optional warm-up and free
 * bits; IWAE_K; any registered objective, with its gradient estimator): the
 * epoch loop (batches, β schedule, validation, per-epoch records and checkpoints) over a
 * `GuardedStepper`, which takes the steps and rolls back any non-finite one (see there).
 */

export async function train(vae: Vae, data: Dataset, options: TrainOptions): Promise<History> {
  checkOptionKeys('train', options, TRAIN_OPTIONS, { samples: 'the objective\'s K is objective: { type, samples }.', lr: 'did you mean "learningRate"?' });
  checkTrainOptions(vae, data, options);
  await ensureBackend({ quiet: options.quiet });
  const {
    epochs,
    batchSize = 100,
    learningRate = 1e-3,
    warmup = 0,
    freeBits = 0,
    seed = 1,
    freeze = [],
    validation,
    validationSamples = 1,
    quiet = false,
  } = options;
  const syncEvery = checkPositiveInt('train.syncEvery', options.syncEvery ?? defaultSyncEvery(batchSize, data.dim));
  const threads = checkPositiveInt('train.threads', options.threads ?? 1);
  const objective: Objective = isObjective(options.objective) ? options.objective : vae.objective(options.objective ?? { type: 'elbo' });
  const log = options.log ?? ((line: string) => (quiet ? undefined : writeStderrLine(line)));
  const showBar = options.progress ?? (hostStderr()?.isTTY === true && !quiet);

  const parts = PARTS.filter((p) => !freeze.includes(p));
  const trained = vae.variables(parts).filter((v) => v.variable.trainable);
  if (trained.length === 0) throw new Error(`train.freeze: nothing left to train (froze ${freeze.join(', ')})`);
  const varList = trained.map((v) => v.variable);
  const names = trained.map((v) => v.name);

  const dataRandom = new Random(seed);
  const validRandom = new Random(seed ^ 0x5bd1e995);
  const adam = new Adam(varList, { learningRate });
  const history: EpochRecord[] = [];
  let steps = 0;
  let startEpoch = 0;
  if (options.resume) {
    const r = options.resume;
    startEpoch = r.epoch;
    steps = r.steps;
    history.push(...r.history);
    dataRandom.setState(r.dataRandom);
    vae.random.setState(r.modelRandom);
    adam.setState(r.optimizer);
  } else {
    vae.random.reseed(seed);
  }
  const batchesPerEpoch = Math.ceil(data.rows / batchSize);
  const t0 = Date.now();

  const captureState = async (epoch: number): Promise<TrainerState> => ({
    epoch,
    steps,
    optimizer: adam.getState(names),
    modelRandom: vae.random.getState(),
    dataRandom: dataRandom.getState(),
    history: history.map((h) => ({ ...h })),
  });

  let parallel: ParallelGradients | null = null;
  if (threads > 1) {
    const spec = isObjective(options.objective) ? null : (options.objective ?? { type: 'elbo' });
    let reason: string;
    try {
      const { ParallelGradients: Parallel } = await importParallel();
      const started = await Parallel.start(vae, trained, { threads, batchSize, objective, spec, freeBits });
      if (started instanceof Parallel) parallel = started;
      reason = started instanceof Parallel ? '' : started.reason;
    } catch (e) {
      reason = `worker threads unavailable: ${(e as Error).message.split('\n')[0]}`;
    }
    if (!parallel) log(`train.threads ${threads}: training on one thread (${reason})`);
  }
  const stepper = new GuardedStepper({
    variables: varList,
    adam,
    random: vae.random,
    syncEvery,
    gradients: parallel ? (x, beta) => parallel.gradients(x, beta) : objectiveGradients(vae, objective, trained, freeBits),
  });

  try {
    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const te = Date.now();
      let sum = 0;
      let count = 0;
      let step = 0;
      let beta = 1;
      const rows: number[] = [];
      const bar = createProgress(`epoch ${epoch + 1}/${epochs}`, batchesPerEpoch, { enabled: showBar });
      const account = (losses: number[]) => {
        losses.forEach((l, i) => {
          sum += -l * rows[i]!;
          count += rows[i]!;
        });
        rows.splice(0, losses.length);
      };
      try {
        for (const x of batches(data, { batchSize, random: dataRandom })) {
          beta = warmup > 0 ? Math.min(1, (epoch + step / batchesPerEpoch) / warmup) : 1;
          rows.push(x.shape[0]);
          account(stepper.step(x, beta, epoch, step, step + 1 === batchesPerEpoch));
          step++;
          steps++;
          bar.update(step);
        }
        account(stepper.flush(epoch));
      } catch (e) {
        stepper.discard();
        throw e;
      } finally {
        bar.stop();
      }
      const record: EpochRecord = {
        epoch: epoch + 1,
        trainBound: sum / count,
        beta,
        seconds: (Date.now() - te) / 1000,
        steps: step,
      };
      if (validation) {
        validRandom.reseed(seed ^ 0x5bd1e995);
        const saved = vae.random.getState();
        record.validElbo = meanElbo(vae, validation, { samples: validationSamples, random: validRandom });
        vae.random.setState(saved);
      }
      history.push(record);
      log(
        `epoch ${record.epoch}/${epochs}  train ${objective.label} ${record.trainBound.toFixed(2)}` +
          (record.validElbo !== undefined ? `  valid elbo ${record.validElbo.toFixed(2)}` : '') +
          (warmup > 0 ? `  β ${beta.toFixed(2)}` : '') +
          `  ${record.seconds.toFixed(1)}s`,
      );
      if (options.onEpochEnd) await options.onEpochEnd(record, () => captureState(epoch + 1));
    }
  } finally {
    adam.dispose();
    await parallel?.dispose();
  }
  return { epochs: history, steps, seconds: (Date.now() - t0) / 1000 };
}
