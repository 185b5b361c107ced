import { tf } from '../core/tf.js';
import type { Random } from '../core/random.js';
import type { Vae } from '../core/vae.js';
import { Adam, type AdamSnapshot } from '../nn/adam.js';
import { trainingLoss } from './training-loss.js';

/** The state of a seeded `Random` stream (`Random.getState()`). */
export interface RandomState {
  state: number;
  spare: number | null;
}

/**
 * Training hit a non-finite loss or gradient, or an update that made a weight or an optimiser
 * moment non-finite (`nonFiniteAfterUpdate` > 0, `value` NaN); the weights are those before the bad step.
 */
export class NonFiniteLossError extends Error {
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly value: number,
    /** How many weights and moments the rolled-back update made non-finite (0: the loss or gradient was). */
    readonly nonFiniteAfterUpdate = 0,
  ) {
    super(
      (nonFiniteAfterUpdate > 0
        ? `training stopped: the update at epoch ${epoch}, step ${step} made ${nonFiniteAfterUpdate} weights or optimiser moments non-finite (NaN or ±Infinity) and was rolled back; `
        : `training stopped: non-finite loss or gradient (${value}) at epoch ${epoch}, step ${step}; `) +
        `the model keeps its last finite weights (try a lower learningRate or β warm-up)`,
    );
    this.name = 'NonFiniteLossError';
  }
}

/**
 * One Adam update that stands only if it leaves every weight and moment finite: otherwise it is
 * rolled back (weights, moments and step count as before). Returns how many values the update
 * made non-finite (0: it stands). Reads one number from the backend.
 */
export function stepUnlessNonFinite(adam: Adam, grads: readonly tf.Tensor[]): number {
  const before = adam.snapshot();
  try {
    adam.step(grads);
    const count = adam.nonFiniteCount();
    const bad = count.dataSync()[0]!;
    count.dispose();
    if (bad > 0) adam.restore(before);
    return bad;
  } finally {
    Adam.disposeSnapshot(before);
  }
}

/**
 * One optimiser step of `train` as it runs in its hot path: gradients of `trainingLoss` w.r.t.
 * `variables`, one Adam update, nothing read from the backend. Returns the loss (caller-owned).
 * (The benchmarks time exactly this.)
 */
export function trainingStep(
  vae: Vae,
  x: tf.Tensor2D,
  { variables, adam, objective, beta = 1, freeBits = 0 }: { variables: tf.Variable[]; adam: Adam; objective: { type: 'elbo' | 'iwae'; samples: number }; beta?: number; freeBits?: number },
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

/**
 * The loss of one batch at warm-up weight β and its gradients w.r.t. the stepper's variables, in
 * their order (all caller-owned). Runs the model, so it draws from the model's random stream.
 */
export type GradientFn = (x: tf.Tensor2D, beta: number) => { value: tf.Scalar; grads: tf.Tensor[] };

export interface GuardedStepperOptions {
  /** The trained variables; `gradients` returns one gradient per variable in this order. */
  variables: tf.Variable[];
  adam: Adam;
  /** The model's random stream: restored with the weights when a window is replayed. */
  random: Random;
  gradients: GradientFn;
  /** Steps between reads of the loss from the backend; 1 checks every step before its update. */
  syncEvery: number;
}

/** A step taken but not yet checked: its batch (kept for a replay), β and loss (on the backend). */
interface Pending {
  x: tf.Tensor2D;
  beta: number;
  /** Null while its step runs (or when the step threw). */
  loss: tf.Scalar | null;
}

/**
 * Takes optimiser steps without reading from the backend in the hot path, and guarantees that
 * no non-finite loss or gradient is ever applied.
 *
 * Losses stay on the backend and are read once per window of `syncEvery` steps (and at the end
 * of each epoch), together with a count of non-finite weights. A window starts from a snapshot of
 * the weights, Adam's moments and the model's random stream. If any loss of the window (or any
 * weight after it) is not finite, the stepper rolls back to the snapshot and replays the
 * window's batches with a checked step that reads the loss and the squared gradient norm before
 * each update; the first step with a non-finite value throws `NonFiniteLossError` (epoch and step,
 * 1-based) before its update, so the model keeps the weights it had before the bad step. The
 * replay is exact because the batches are kept and the random stream restored. `syncEvery: 1`
 * checks every step directly.
 */
export class GuardedStepper {
  private pending: Pending[] = [];
  private snapshot: { adam: AdamSnapshot; random: RandomState } | null = null;
  /** 1-based step (within its epoch) of the window's first batch. */
  private windowStart = 1;

  constructor(private readonly o: GuardedStepperOptions) {}

  /**
   * Takes the step of batch `x` (owned from here on: disposed when no longer needed) at warm-up
   * weight `beta`; `epoch` is 0-based, `step` the 0-based step within it. Returns the losses of
   * the steps checked by this call, in order (none while a window is open; `last` closes it).
   */
  step(x: tf.Tensor2D, beta: number, epoch: number, step: number, last: boolean): number[] {
    if (this.o.syncEvery === 1) {
      let r: { ok: boolean; loss: number; nonFinite: number };
      try {
        r = this.guardedStep(x, beta);
      } finally {
        x.dispose();
      }
      if (!r.ok) throw new NonFiniteLossError(epoch + 1, step + 1, r.loss, r.nonFinite);
      return [r.loss];
    }
    const losses: number[] = [];
    if (this.pending.length === 0) {
      this.snapshot = { adam: this.o.adam.snapshot(), random: this.o.random.getState() };
      this.windowStart = step + 1;
    }
    const entry: Pending = { x, beta, loss: null };
    this.pending.push(entry);
    try {
      entry.loss = this.fastStep(x, beta);
    } catch {
      // The model threw (e.g. a flow's non-finite log-det check), possibly because of an
      // unchecked earlier update of this window: replay the window checked, this step
      // included. A non-finite step before it, or the same error again, is thrown with
      // the weights from before that step; if the step now succeeds, training goes on.
      losses.push(...this.replay(epoch));
    }
    if (this.pending.length === this.o.syncEvery || last) losses.push(...this.flush(epoch));
    return losses;
  }

  /**
   * Checks the pending window with one read (its losses and the count of non-finite weights);
   * on a non-finite value replays it. Returns the window's losses.
   */
  flush(epoch: number): number[] {
    const { pending } = this;
    if (pending.length === 0) return [];
    const check = tf.tidy(() =>
      tf.concat([
        tf.stack(pending.map((p) => p.loss!)),
        tf.reshape(this.o.adam.nonFiniteCount(), [1]),
      ]),
    );
    const values = check.dataSync() as Float32Array;
    check.dispose();
    const losses = Array.from(values.subarray(0, pending.length));
    if (values.every((v) => Number.isFinite(v)) && values[pending.length] === 0) {
      this.discard();
      return losses;
    }
    return this.replay(epoch);
  }

  /** Drops the unchecked window (its batches, losses and snapshot), e.g. after an error. */
  discard(): void {
    for (const p of this.pending) tf.dispose(p.loss ? [p.x, p.loss] : [p.x]);
    this.pending = [];
    if (this.snapshot) Adam.disposeSnapshot(this.snapshot.adam);
    this.snapshot = null;
  }

  /** The fast step: gradients and update, nothing read back. Returns the loss (caller-owned). */
  private fastStep(x: tf.Tensor2D, beta: number): tf.Scalar {
    const { value, grads } = this.o.gradients(x, beta);
    this.o.adam.step(grads);
    tf.dispose(grads);
    return value;
  }

  /**
   * The checked step: reads the loss and ‖g‖² and applies the update only when both are finite;
   * an update that makes a weight or moment non-finite is rolled back (`stepUnlessNonFinite`).
   */
  private guardedStep(x: tf.Tensor2D, beta: number): { ok: boolean; loss: number; nonFinite: number } {
    const { value, grads } = this.o.gradients(x, beta);
    try {
      const check = tf.tidy(() => tf.stack([value, tf.addN(grads.map((g) => tf.sum(tf.square(g))))]));
      const [loss, gradSq] = check.dataSync() as Float32Array;
      check.dispose();
      if (!Number.isFinite(loss!) || !Number.isFinite(gradSq!)) return { ok: false, loss: Number.isFinite(loss!) ? gradSq! : loss!, nonFinite: 0 };
      const nonFinite = stepUnlessNonFinite(this.o.adam, grads);
      return nonFinite > 0 ? { ok: false, loss: Number.NaN, nonFinite } : { ok: true, loss: loss!, nonFinite: 0 };
    } finally {
      tf.dispose([value, ...grads]);
    }
  }

  /**
   * Rolls back to the window's start and replays its batches with `guardedStep`, which reads
   * the loss and ‖g‖² before each update: the first non-finite one throws NonFiniteLossError
   * (an error thrown by the model itself is re-thrown at its step), each time with the weights
   * from before that step. Returns the window's losses when every step is finite.
   */
  private replay(epoch: number): number[] {
    this.o.adam.restore(this.snapshot!.adam);
    this.o.random.setState(this.snapshot!.random);
    const replayed: number[] = [];
    try {
      this.pending.forEach((p, i) => {
        const r = this.guardedStep(p.x, p.beta);
        if (!r.ok) throw new NonFiniteLossError(epoch + 1, this.windowStart + i, r.loss, r.nonFinite);
        replayed.push(r.loss);
      });
    } finally {
      this.discard();
    }
    return replayed;
  }
}
