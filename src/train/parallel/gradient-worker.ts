/**
 * A gradient worker thread (see `parallel-gradients.ts`). It rebuilds the model from its spec
 * on the same backend, then, for each step command on its channel, loads the weights the
 * training thread wrote, computes the gradients of its rows' share of the loss,
 * −(1/B)·Σ over its rows, with its rows of the single-thread noise (`Random.shareRows`), and
 * writes them back. It holds no training state of its own: weights, β and the random stream's
 * state come with every step, so rollbacks, replays and resumes on the training thread need
 * nothing from it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { tf } from '../../core/tf.js';
import type { Vae } from '../../core/vae.js';
import { createVae } from '../../config/create-vae.js';
import { selectBackend } from '../../backend/select-backend.js';
import { copyTensorInto } from '../../backend/tensor-copy.js';
import type { Objective } from '../../core/objective.js';
import type { NamedVariable } from '../../core/variables.js';
import { objectiveGradients, type ObjectiveSpec } from '../trainer.js';
import { rowShareObjective } from './row-share-objective.js';
import { Command, Scalar, Slot, stepChannel, writeError, type ChannelSizes, type StepChannel } from './step-channel.js';

export interface WorkerSetup {
  buffer: SharedArrayBuffer;
  sizes: ChannelSizes;
  backend: string;
  /** Modules to import first (they register the built-in plugins). */
  sources: string[];
  spec: Vae['spec'];
  /** Every variable of the model by name (trained or not), with its values. */
  values: { name: string; shape: number[]; values: Float32Array }[];
  /** The trained variables, in the order of the channel's weights and gradients. */
  trained: string[];
  /** The objective's config spec (rebuilt here with the model's objective plugins). */
  objective: ObjectiveSpec;
  dataDim: number;
}

export type WorkerReply = { type: 'ready' } | { type: 'failed'; message: string };

function stepOnce(vae: Vae, channel: StepChannel, trained: NamedVariable[], objective: Objective, setup: WorkerSetup, copyUploads: boolean): void {
  const c = channel.control;
  let at = 0;
  for (const { variable: v } of trained) {
    const part = channel.weights.subarray(at, at + v.size);
    tf.tidy(() => v.assign(tf.tensor(copyUploads ? part.slice() : part, v.shape, 'float32')));
    at += v.size;
  }
  const rows = c[Slot.Rows]!;
  const start = c[Slot.Start]!;
  const end = c[Slot.End]!;
  const n = end - start;
  const xValues = channel.rows.subarray(0, n * setup.dataDim);
  const x = tf.tensor2d(copyUploads ? xValues.slice() : xValues, [n, setup.dataDim], 'float32');
  const beta = channel.scalars[Scalar.Beta]!;
  vae.random.setState({ state: c[Slot.RandomState]! >>> 0, spare: c[Slot.HasSpare] ? channel.scalars[Scalar.Spare]! : null });
  vae.random.shareRows({ start, end, rows });
  try {
    const { value, grads } = objectiveGradients(vae, rowShareObjective(objective, { start, end, rows }), trained, 0)(x, beta);
    try {
      at = 0;
      for (const g of grads) {
        copyTensorInto(g, channel.gradients, at);
        at += g.size;
      }
      channel.scalars[Scalar.Loss] = value.dataSync()[0]!;
    } finally {
      tf.dispose([value, ...grads]);
    }
  } finally {
    vae.random.shareRows(null);
    x.dispose();
  }
}

async function main(): Promise<void> {
  const setup = workerData as WorkerSetup;
  const port = parentPort!;
  let vae: Vae;
  let trained: NamedVariable[];
  let objective: Objective;
  const channel = stepChannel(setup.sizes, setup.buffer);
  try {
    for (const s of setup.sources) await import(s);
    await selectBackend(setup.backend, { quiet: true });
    vae = createVae(setup.spec);
    const byName = new Map(vae.variables().map((v) => [v.name, v.variable]));
    const sent = new Set(setup.values.map((v) => v.name));
    const mismatch = [...byName.keys()].filter((k) => !sent.has(k)).concat(setup.values.map((v) => v.name).filter((k) => !byName.has(k)));
    if (mismatch.length > 0) throw new Error(`the rebuilt model's variables differ (${mismatch.slice(0, 4).join(', ')})`);
    for (const v of setup.values) {
      const target = byName.get(v.name)!;
      if (target.shape.join(',') !== v.shape.join(',')) throw new Error(`variable ${v.name}: rebuilt [${target.shape.join(', ')}], sent [${v.shape.join(', ')}]`);
      tf.tidy(() => target.assign(tf.tensor(v.values, v.shape, 'float32')));
    }
    trained = setup.trained.map((name) => ({ name, variable: byName.get(name)! }));
    objective = vae.objective(setup.objective);
  } catch (e) {
    port.postMessage({ type: 'failed', message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
    return;
  }
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
  const c = channel.control;
  // The cpu backend keeps the arrays it is given: copy out of the shared memory there.
  const copyUploads = tf.getBackend() === 'cpu';
  let seq = 0;
  for (;;) {
    Atomics.wait(c, Slot.Seq, seq);
    seq = Atomics.load(c, Slot.Seq);
    if (c[Slot.Command] === Command.Exit) break;
    try {
      stepOnce(vae, channel, trained, objective, setup, copyUploads);
      c[Slot.Status] = 0;
    } catch (e) {
      writeError(channel, e instanceof Error ? e.message : String(e));
      c[Slot.Status] = 1;
    }
    Atomics.store(c, Slot.Done, seq);
    Atomics.notify(c, Slot.Done);
  }
  vae.dispose();
}

void main();
