import { tf } from '../core/tf.js';
import { Random } from '../core/random.js';
import { checkPositiveInt } from '../core/checks.js';
import type { Part, Vae } from '../core/vae.js';
import type { Dataset } from '../data/dataset.js';
import { batches, datasetTensor } from '../data/batches.js';
import { Adam, type AdamSnapshot } from '../nn/adam.js';
import { createProgress } from '../eval/progress.js';
import { checkOptionKeys, optionKeys } from '../core/option-keys.js';

export interface Objective {
  type: 'elbo' | 'iwae';
  /** K, samples per row. */
  samples?: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  objective?: Objective;
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
  /** Parts left untouched (e.g. `['decoder', 'prior']` trains the encoder of a frozen model). */
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

export interface RandomState {
  state: number;
  spare: number | null;
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

/** Training hit a non-finite loss or gradient; the weights are those before the bad step. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly value: number,
  ) {
    super(
      `training stopped: non-finite loss or gradient (${value}) at epoch ${epoch}, step ${step}; ` +
        `the model keeps its last finite weights (try a lower learningRate or β warm-up)`,
    );
    this.name = 'NonFiniteLossError';
  }
}

function checkOptions(vae: Vae, data: Dataset, o: TrainOptions): void {
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new Error(`train.epochs: expected a non-negative integer; got ${JSON.stringify(o.epochs)}`);
  if (o.batchSize !== undefined) checkPositiveInt('train.batchSize', o.batchSize);
  if (o.objective?.samples !== undefined) checkPositiveInt('train.objective.samples', o.objective.samples);
  if (o.learningRate !== undefined && !(o.learningRate > 0)) {
    throw new Error(`train.learningRate: expected a positive number; got ${JSON.stringify(o.learningRate)}`);
  }
  if (o.objective && o.objective.type !== 'elbo' && o.objective.type !== 'iwae') {
    throw new Error(`train.objective.type: expected "elbo" or "iwae"; got ${JSON.stringify(o.objective.type)}`);
  }
  if (data.dim !== vae.dataDim) {
    throw new Error(`data: rows of "${data.name}" have ${data.dim} values but the model expects ${vae.dataDim} (model.dataDim)`);
  }
  vae.likelihood.validateData?.(data.x, data.dim);
  if (o.validation) {
    if (o.validation.dim !== vae.dataDim) {
      throw new Error(`validation data: rows have ${o.validation.dim} values but the model expects ${vae.dataDim}`);
    }
    vae.likelihood.validateData?.(o.validation.x, o.validation.dim);
  }
}

/** The per-batch training loss: −mean over rows of the β-weighted ELBO or of IWAE_K. */
export function trainingLoss(vae: Vae, x: tf.Tensor2D, objective: Required<Objective>, beta: number, freeBits = 0): tf.Scalar {
  return tf.tidy(() => {
    if (objective.type === 'iwae') return tf.neg(tf.mean(vae.iwae(x, { samples: objective.samples })));
    const r = vae.elbo(x, { samples: objective.samples });
    let kl: tf.Tensor = tf.mean(r.kl);
    if (freeBits > 0) kl = tf.maximum(kl, freeBits * vae.latentDim);
    return tf.neg(tf.sub(tf.mean(r.reconstruction), tf.mul(kl, beta)));
  }) as tf.Scalar;
}

/** Mean ELBO over `data` (batched), nats. */
export function meanElbo(vae: Vae, data: Dataset, { samples = 1, batchSize = 500, random }: { samples?: number; batchSize?: number; random?: Random } = {}): number {
  let total = 0;
  for (let start = 0; start < data.rows; start += batchSize) {
    const end = Math.min(data.rows, start + batchSize);
    const x = datasetTensor(data, { start, end, ...(random ? { random } : {}) });
    const s = tf.tidy(() => tf.sum(vae.elbo(x, { samples }).elbo));
    total += s.dataSync()[0]!;
    s.dispose();
    x.dispose();
  }
  return total / data.rows;
}

/**
 * One optimiser step of `train` as it runs in its hot path: gradients of `trainingLoss` w.r.t.
 * `variables`, one Adam update, nothing read from the backend. Returns the loss (caller-owned).
 * (The benchmarks time exactly this.)
 */
export function trainingStep(
  vae: Vae,
  x: tf.Tensor2D,
  { variables, adam, objective, beta = 1, freeBits = 0 }: { variables: tf.Variable[]; adam: Adam; objective: Required<Objective>; beta?: number; freeBits?: number },
): tf.Scalar {
  const { value, grads } = tf.variableGrads(() => trainingLoss(vae, x, objective, beta, freeBits), variables);
  const list = variables.map((v) => grads[v.name]!);
  adam.step(list);
  tf.dispose(list);
  return value;
}

/**
 * Steps between loss reads when `syncEvery` is not given: the pending batches of a window are
 * kept for a possible replay, so the window holds at most ~4M values (16 MB), and at most 50 steps.
 */
export function defaultSyncEvery(batchSize: number, dim: number): number {
  return Math.max(1, Math.min(50, Math.floor(4_000_000 / (batchSize * dim))));
}

/** A step taken but not yet checked: its batch (kept for a replay), β and loss (on the backend). */
interface Pending {
  x: tf.Tensor2D;
  beta: number;
  /** Null while its step runs (or when the step threw). */
  loss: tf.Scalar | null;
}

/**
 * Trains with Adam on the ELBO (β-weighted, with optional warm-up and free bits) or IWAE_K.
 *
 * The hot path does not read from the backend: losses stay on it and are read once per window
 * of `syncEvery` steps (and at the end of each epoch), together with a count of non-finite
 * weights. A window starts from a snapshot of the weights, Adam's moments and the model's
 * random stream. If any loss of the window (or any weight after it) is not finite, training
 * rolls back to the snapshot and replays the window's batches with a checked step that reads
 * the loss and the squared gradient norm before each update; the first step with a non-finite
 * value stops training with `NonFiniteLossError` (epoch and step, 1-based) before its update,
 * so the model keeps the weights it had before the bad step. The replay is exact because the
 * batches are kept and the random stream restored. `syncEvery: 1` checks every step directly.
 */
const TRAIN_OPTIONS = optionKeys<TrainOptions>()(
  'epochs', 'batchSize', 'learningRate', 'objective', 'warmup', 'freeBits', 'seed', 'freeze', 'validation', 'validationSamples', 'progress', 'log', 'quiet', 'onEpochEnd', 'resume', 'syncEvery',
);

export async function train(vae: Vae, data: Dataset, options: TrainOptions): Promise<History> {
  checkOptionKeys('train', options, TRAIN_OPTIONS, { samples: 'the objective\'s K is objective: { type, samples }.', lr: 'did you mean "learningRate"?' });
  checkOptions(vae, data, options);
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
  const objective: Required<Objective> = { type: options.objective?.type ?? 'elbo', samples: options.objective?.samples ?? 1 };
  const log = options.log ?? ((line: string) => (quiet ? undefined : process.stderr.write(`${line}\n`)));
  const showBar = options.progress ?? (process.stderr.isTTY === true && !quiet);

  const parts = (['encoder', 'decoder', 'prior'] as const).filter((p) => !freeze.includes(p));
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

  const gradients = (x: tf.Tensor2D, beta: number) => {
    const { value, grads } = tf.variableGrads(() => trainingLoss(vae, x, objective, beta, freeBits), varList);
    return { value, grads: varList.map((v) => grads[v.name]!) };
  };

  /** The fast step: gradients and update, nothing read back. Returns the loss (caller-owned). */
  const fastStep = (x: tf.Tensor2D, beta: number): tf.Scalar =>
    trainingStep(vae, x, { variables: varList, adam, objective, beta, freeBits });

  /** The checked step: reads the loss and ‖g‖² and applies the update only when both are finite. */
  const guardedStep = (x: tf.Tensor2D, beta: number): { ok: boolean; loss: number } => {
    const { value, grads } = gradients(x, beta);
    try {
      const check = tf.tidy(() => tf.stack([value, tf.addN(grads.map((g) => tf.sum(tf.square(g))))]));
      const [loss, gradSq] = check.dataSync() as Float32Array;
      check.dispose();
      if (!Number.isFinite(loss!) || !Number.isFinite(gradSq!)) return { ok: false, loss: Number.isFinite(loss!) ? gradSq! : loss! };
      adam.step(grads);
      return { ok: true, loss: loss! };
    } finally {
      tf.dispose([value, ...grads]);
    }
  };

  let pending: Pending[] = [];
  let snapshot: { adam: AdamSnapshot; random: RandomState } | null = null;
  const dropWindow = () => {
    for (const p of pending) tf.dispose(p.loss ? [p.x, p.loss] : [p.x]);
    pending = [];
    if (snapshot) Adam.disposeSnapshot(snapshot.adam);
    snapshot = null;
  };

  /**
   * Rolls back to the window's start and replays its batches with `guardedStep`, which reads
   * the loss and ‖g‖² before each update: the first non-finite one throws NonFiniteLossError
   * (an error thrown by the model itself is re-thrown at its step), each time with the weights
   * from before that step. Returns the window's losses when every step is finite.
   */
  const replay = (epoch: number, firstStep: number): number[] => {
    adam.restore(snapshot!.adam);
    vae.random.setState(snapshot!.random);
    const replayed: number[] = [];
    try {
      pending.forEach((p, i) => {
        const r = guardedStep(p.x, p.beta);
        if (!r.ok) throw new NonFiniteLossError(epoch + 1, firstStep + i, r.loss);
        replayed.push(r.loss);
      });
    } finally {
      dropWindow();
    }
    return replayed;
  };

  /**
   * Checks the pending window with one read (its losses and the count of non-finite weights);
   * on a non-finite value replays it. Returns the window's losses. `firstStep` is the 1-based
   * step of its first batch.
   */
  const flush = (epoch: number, firstStep: number): number[] => {
    if (pending.length === 0) return [];
    const check = tf.tidy(() =>
      tf.concat([
        tf.stack(pending.map((p) => p.loss!)),
        tf.reshape(tf.addN(varList.map((v) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(v)), 'float32')))), [1]),
      ]),
    );
    const values = check.dataSync() as Float32Array;
    check.dispose();
    const losses = Array.from(values.subarray(0, pending.length));
    if (values.every((v) => Number.isFinite(v)) && values[pending.length] === 0) {
      dropWindow();
      return losses;
    }
    return replay(epoch, firstStep);
  };

  try {
    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const te = Date.now();
      let sum = 0;
      let count = 0;
      let step = 0;
      let beta = 1;
      let windowStart = 1;
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
          if (syncEvery === 1) {
            let r: { ok: boolean; loss: number };
            try {
              r = guardedStep(x, beta);
            } finally {
              x.dispose();
            }
            if (!r.ok) throw new NonFiniteLossError(epoch + 1, step + 1, r.loss);
            account([r.loss]);
          } else {
            if (pending.length === 0) {
              snapshot = { adam: adam.snapshot(), random: vae.random.getState() };
              windowStart = step + 1;
            }
            const entry: Pending = { x, beta, loss: null };
            pending.push(entry);
            try {
              entry.loss = fastStep(x, beta);
            } catch {
              // The model threw (e.g. a flow's non-finite log-det check), possibly because of an
              // unchecked earlier update of this window: replay the window checked, this step
              // included. A non-finite step before it, or the same error again, is thrown with
              // the weights from before that step; if the step now succeeds, training goes on.
              account(replay(epoch, windowStart));
            }
            if (pending.length === syncEvery || step + 1 === batchesPerEpoch) account(flush(epoch, windowStart));
          }
          step++;
          steps++;
          bar.update(step);
        }
        account(flush(epoch, windowStart));
      } catch (e) {
        dropWindow();
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
        `epoch ${record.epoch}/${epochs}  train ${objective.type} ${record.trainBound.toFixed(2)}` +
          (record.validElbo !== undefined ? `  valid elbo ${record.validElbo.toFixed(2)}` : '') +
          (warmup > 0 ? `  β ${beta.toFixed(2)}` : '') +
          `  ${record.seconds.toFixed(1)}s`,
      );
      if (options.onEpochEnd) await options.onEpochEnd(record, () => captureState(epoch + 1));
    }
  } finally {
    adam.dispose();
  }
  return { epochs: history, steps, seconds: (Date.now() - t0) / 1000 };
}
