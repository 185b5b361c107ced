import { tf } from '../core/tf.js';
import { Random } from '../core/random.js';
import type { Part, Vae } from '../core/vae.js';
import type { Dataset } from '../data/dataset.js';
import { batches, datasetTensor } from '../data/batches.js';

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
  const positiveInt = (v: unknown, field: string) => {
    if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`train.${field}: expected a positive integer; got ${JSON.stringify(v)}`);
  };
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new Error(`train.epochs: expected a non-negative integer; got ${JSON.stringify(o.epochs)}`);
  if (o.batchSize !== undefined) positiveInt(o.batchSize, 'batchSize');
  if (o.objective?.samples !== undefined) positiveInt(o.objective.samples, 'objective.samples');
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
 * Trains with Adam on the ELBO (β-weighted, with optional warm-up and free bits) or IWAE_K.
 * Before each update the loss and the squared gradient norm are read; a non-finite value stops
 * training with `NonFiniteLossError` before the update is applied, so the weights stay finite.
 */
export async function train(vae: Vae, data: Dataset, options: TrainOptions): Promise<History> {
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
  const objective: Required<Objective> = { type: options.objective?.type ?? 'elbo', samples: options.objective?.samples ?? 1 };
  const log = options.log ?? ((line: string) => (quiet ? undefined : process.stderr.write(`${line}\n`)));
  const showBar = options.progress ?? (process.stderr.isTTY === true && !quiet);

  const parts = (['encoder', 'decoder', 'prior'] as const).filter((p) => !freeze.includes(p));
  const trained = vae.variables(parts).filter((v) => v.variable.trainable);
  if (trained.length === 0) throw new Error(`train.freeze: nothing left to train (froze ${freeze.join(', ')})`);
  const varList = trained.map((v) => v.variable);

  const dataRandom = new Random(seed);
  const validRandom = new Random(seed ^ 0x5bd1e995);
  const optimizer = tf.train.adam(learningRate);
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
    await optimizer.setWeights(r.optimizer.map((w) => ({ name: w.name, tensor: w.tensor })));
  } else {
    vae.random.reseed(seed);
  }
  const batchesPerEpoch = Math.ceil(data.rows / batchSize);
  const t0 = Date.now();

  const captureState = async (epoch: number): Promise<TrainerState> => {
    const weights = await optimizer.getWeights();
    const names = trained.map((v) => v.name);
    const n = names.length;
    return {
      epoch,
      steps,
      optimizer: weights.map((w, i) => ({
        name: i === 0 ? 'iter' : `${names[(i - 1) % n]}/${i - 1 < n ? 'm' : 'v'}`,
        tensor: i === 0 ? w.tensor : tf.clone(w.tensor),
      })),
      modelRandom: vae.random.getState(),
      dataRandom: dataRandom.getState(),
      history: history.map((h) => ({ ...h })),
    };
  };

  try {
    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const te = Date.now();
      let sum = 0;
      let count = 0;
      let step = 0;
      let beta = 1;
      const bar = showBar ? new ProgressLine(`epoch ${epoch + 1}/${epochs}`, batchesPerEpoch) : null;
      for (const x of batches(data, { batchSize, random: dataRandom })) {
        beta = warmup > 0 ? Math.min(1, (epoch + step / batchesPerEpoch) / warmup) : 1;
        const { value, grads } = tf.variableGrads(() => trainingLoss(vae, x, objective, beta, freeBits), varList);
        const check = tf.tidy(() => tf.stack([value, tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))]));
        const [loss, gradSq] = check.dataSync() as Float32Array;
        check.dispose();
        if (!Number.isFinite(loss!) || !Number.isFinite(gradSq!)) {
          tf.dispose([value, x]);
          tf.dispose(grads);
          bar?.stop();
          throw new NonFiniteLossError(epoch + 1, step + 1, Number.isFinite(loss!) ? gradSq! : loss!);
        }
        optimizer.applyGradients(varList.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
        tf.dispose([value, x]);
        tf.dispose(grads);
        sum += -loss! * x.shape[0];
        count += x.shape[0];
        step++;
        steps++;
        bar?.update(step, `bound ${(sum / count).toFixed(2)}`);
      }
      bar?.stop();
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
    optimizer.dispose();
  }
  return { epochs: history, steps, seconds: (Date.now() - t0) / 1000 };
}

/** A one-line progress bar on stderr (no dependency on a terminal library here). */
class ProgressLine {
  private last = 0;
  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}
  update(done: number, info: string): void {
    const now = Date.now();
    if (now - this.last < 100 && done < this.total) return;
    this.last = now;
    const width = 30;
    const filled = Math.round((done / this.total) * width);
    process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${this.total} ${info}   `);
  }
  stop(): void {
    process.stderr.write('\n');
  }
}
