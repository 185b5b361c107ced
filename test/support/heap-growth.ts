/**
 * Child-process script for the model heap test (needs `node --expose-gc --import tsx`):
 * builds and disposes `n` models with createVae in one synchronous loop, then loads and disposes
 * `n / 4` with loadVae, and prints the JS heap growth of each phase (bytes, after full GCs) as JSON.
 * The first phase is measured before the job yields: a WeakRef target is kept alive until then.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVae, loadVae, saveVae, selectBackend, tf } from '../../plugins/index.js';

const n = Number(process.argv[2] ?? 300);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const tick = () => new Promise((r) => setTimeout(r, 0));
const model = { latentDim: 4, dataDim: 16, encoder: { type: 'gaussian', hidden: [16] }, likelihood: { type: 'bernoulli', hidden: [16] } };

await selectBackend('cpu', { quiet: true });
const dir = mkdtempSync(join(tmpdir(), 'vaekit-heap-'));
try {
  const first = createVae(model);
  await saveVae(first, dir);
  first.dispose();
  // Warm-up: compiled code and caches that are made once.
  for (let i = 0; i < 50; i++) createVae(model).dispose();
  for (let i = 0; i < 10; i++) (await loadVae(dir)).dispose();
  await tick();
  const h0 = heap();
  for (let i = 0; i < n; i++) createVae(model).dispose();
  const createGrowth = heap() - h0;
  await tick();
  const h1 = heap();
  for (let i = 0; i < n / 4; i++) (await loadVae(dir)).dispose();
  await tick();
  const loadGrowth = heap() - h1;
  process.stdout.write(`${JSON.stringify({ n, createGrowth, loadGrowth, loads: n / 4, tensors: tf.memory().numTensors })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
