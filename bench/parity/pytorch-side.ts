import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Init, ParityRun, ParitySettings } from './types.js';

const SCRIPT = fileURLToPath(new URL('../pytorch/vae_reference.py', import.meta.url));

/** The environment the speed bench gives PyTorch: OpenBLAS picks its own kernels, glibc keeps freed memory. */
export function pytorchEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, MALLOC_MMAP_THRESHOLD_: String(2 ** 30), MALLOC_TRIM_THRESHOLD_: String(2 ** 30) };
  delete out.OPENBLAS_CORETYPE;
  delete out.OPENBLAS_L2_SIZE;
  return out;
}

/** The reference's command line for one seed (one thread), evaluated on the rows in `testIdx`. */
export function pytorchArgs(s: ParitySettings, init: Init, seed: number, testIdx: string): string[] {
  return [
    SCRIPT, '--threads', '1', 'train',
    '--train-rows', String(s.trainRows), '--epochs', String(s.epochs), '--batch-size', String(s.batchSize),
    '--learning-rate', String(s.learningRate), '--test-idx', testIdx, '--binarized-test', '--test-rows', String(s.testRows),
    '--samples', String(s.samples), '--elbo-samples', String(s.elboSamples), '--seed', String(seed), '--init', init, '--per-row',
  ];
}

/** Trains and evaluates the PyTorch reference for one seed (bench/pytorch/vae_reference.py train). */
export function runPytorch(s: ParitySettings, init: Init, seed: number, testIdx: string, python: string): ParityRun {
  const r = spawnSync(python, pytorchArgs(s, init, seed, testIdx), { env: pytorchEnv(), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw new Error(`PyTorch reference: could not run ${python}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`PyTorch reference (seed ${seed}, init ${init}) exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return fromReference(JSON.parse(r.stdout) as Record<string, unknown>, s);
}

/** A ParityRun from the JSON line `vae_reference.py train --per-row` prints. */
export function fromReference(o: Record<string, unknown>, s: ParitySettings): ParityRun {
  const perRow = o.perRow as { elbo: number[]; logLikelihood: number[] } | undefined;
  return {
    side: 'pytorch',
    init: o.init as Init,
    seed: o.seed as number,
    elbo: o.elbo as number,
    logLikelihood: o.logLikelihood as number,
    trainSeconds: o.trainSeconds as number,
    evalSeconds: o.evalSeconds as number,
    cpuSeconds: o.cpuSeconds as number,
    ...(perRow ? { perRow } : {}),
    settings: s,
  };
}
