/**
 * The entry of an evaluation worker thread (started by eval-worker-pool.ts): on `init` it imports
 * the package entry and any user plugin modules, selects the parent's backend, rebuilds the model
 * from its spec and assigns the parent's weights; then for each `batch` it reseeds the model's
 * generator with the batch's seed and runs `evaluateBatch` — the same code the parent runs when
 * it evaluates on one thread.
 */
import { parentPort } from 'node:worker_threads';
import type { ContainerModule } from 'inversify';
import { selectBackend } from '../backend/select-backend.js';
import { createVae } from '../config/create-vae.js';
import { tf } from '../core/tf.js';
import type { Vae } from '../core/vae.js';
import { evaluateBatch, type EvalTask } from './batch-evaluation.js';
import type { FromEvalWorker, ToEvalWorker } from './eval-worker-pool.js';

const port = parentPort;
if (!port) throw new Error('eval-worker: expected to run in a worker thread');

let vae: Vae | null = null;
let task: EvalTask | null = null;
const send = (m: FromEvalWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

function isContainerModule(m: unknown): m is ContainerModule {
  return m !== null && typeof m === 'object' && typeof (m as { load?: unknown }).load === 'function' && 'id' in (m as object);
}

async function init(m: Extract<ToEvalWorker, { type: 'init' }>): Promise<void> {
  const plugins: ContainerModule[] = [];
  for (const [i, url] of m.modules.entries()) {
    const mod = (await import(url)) as { default?: unknown };
    if (i > 0 && isContainerModule(mod.default)) plugins.push(mod.default);
  }
  await selectBackend(m.backend, { quiet: true });
  vae = createVae(m.spec as Parameters<typeof createVae>[0], { plugins });
  const weights: Record<string, tf.Tensor> = {};
  for (const w of m.weights) weights[w.name] = tf.tensor(w.values, w.shape, 'float32');
  try {
    vae.setWeights(weights);
  } finally {
    tf.dispose(Object.values(weights));
  }
  task = m.task;
  send({ type: 'ready', backend: tf.getBackend() });
}

// Messages are handled one at a time, in order (the parent sends a batch only to an idle worker).
let chain: Promise<void> = Promise.resolve();
port.on('message', (m: ToEvalWorker) => {
  chain = chain.then(async () => {
    if (m.type === 'exit') {
      vae?.dispose();
      port.close();
      return;
    }
    if (m.type === 'init') {
      try {
        await init(m);
      } catch (e) {
        send({ type: 'error', index: null, message: (e as Error).message });
      }
      return;
    }
    const { block } = m;
    try {
      if (!vae || !task) throw new Error('eval-worker: batch before init');
      vae.random.reseed(block.seed);
      const x = tf.tensor2d(block.values, [block.rows, block.values.length / block.rows]);
      let result;
      try {
        result = await evaluateBatch(vae, x, task, (samples) => send({ type: 'progress', index: block.index, samples }));
      } finally {
        x.dispose();
      }
      send({ type: 'result', index: block.index, result }, Object.values(result.perRow).map((a) => a.buffer as ArrayBuffer));
    } catch (e) {
      send({ type: 'error', index: block.index, message: (e as Error).message });
    }
  });
});
