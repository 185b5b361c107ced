import { createVae, setKernelThreads, setSpeedFixes, tf, train, type Dataset, type ModelConfigInput } from '../../plugins/index.js';
import { HandWrittenVae } from './hand-written-vae.js';
import { repeatedDataset } from './data.js';

/** Time of one block of steps: CPU ms of the process that ran them and wall ms. */
export interface BlockTime {
  cpuMs: number;
  wallMs: number;
}

/** Something whose training steps can be timed in blocks: `run(n)` takes n steps (and waits for them). */
export interface Stepper {
  label: string;
  run(n: number): Promise<BlockTime>;
  dispose(): void | Promise<void>;
}

/** Times `f` in this process. */
export async function timeHere(f: () => Promise<void>): Promise<BlockTime> {
  const t = performance.now();
  const c = process.cpuUsage();
  await f();
  const cu = process.cpuUsage(c);
  return { cpuMs: (cu.user + cu.system) / 1000, wallMs: performance.now() - t };
}

/**
 * vaekit's training as a user runs it: `train(vae, data, { epochs: 1, batchSize })` over an
 * in-memory data set of n batches (copies of one binary batch), so a block of n steps is one
 * epoch (the optimiser's moments restart with each block; one step's worth of set-up per block).
 * `fix`: `false` turns every speed fix off for the block (`setSpeedFixes`); `kernelThreads`: the
 * threads vaekit's products are split over (`setKernelThreads`; 1 by default here, so that CPU
 * time measures one core's work).
 */
export function vaekitStepper(label: string, config: ModelConfigInput, batch: number, fix: boolean | null = null, kernelThreads = 1): Stepper {
  const vae = createVae(config);
  const sets = new Map<number, Dataset>();
  return {
    label,
    run: (n) => {
      let data = sets.get(n);
      if (!data) sets.set(n, (data = repeatedDataset(batch, n, batch)));
      const d = data;
      return timeHere(async () => {
        setSpeedFixes(fix);
        setKernelThreads(kernelThreads);
        try {
          await train(vae, d, { epochs: 1, batchSize: batch, learningRate: 1e-4, seed: 1, quiet: true, progress: false });
        } finally {
          setSpeedFixes(null);
          setKernelThreads(null);
        }
      });
    },
    dispose: () => vae.dispose(),
  };
}

/** The hand-written step (tfjs's own matMul gradient, `minimize`, the loss read every step). */
export function handStepper(x: tf.Tensor2D): Stepper {
  const hand = new HandWrittenVae(1);
  return {
    label: 'hand-written',
    run: (n) =>
      timeHere(async () => {
        setSpeedFixes(false);
        try {
          for (let i = 0; i < n; i++) {
            const loss = hand.optimizer.minimize(() => hand.loss(x), true);
            await loss!.data();
            loss!.dispose();
          }
        } finally {
          setSpeedFixes(null);
        }
      }),
    dispose: () => hand.dispose(),
  };
}
