import { tf, type Vae } from '../../plugins/index.js';
import type { Dataset } from '../../src/data/dataset.js';
import { train, type History, type TrainOptions, type TrainerState } from '../../src/train/trainer.js';

/**
 * Trains through a piecewise-constant learning-rate schedule by chaining `train()` calls: phase i
 * runs to the cumulative epoch count Σ_{j≤i} epochs_j at its rate, resuming from the state the
 * previous phase ended in (Adam's iteration count and moments, the data and model random streams,
 * the history), so the result is one continuous run whose rate changes between epochs.
 */
export async function trainScheduled(vae: Vae, data: Dataset, options: Omit<TrainOptions, 'epochs' | 'learningRate' | 'resume' | 'onEpochEnd'>, schedule: readonly { epochs: number; learningRate: number }[]): Promise<History> {
  let state: TrainerState | undefined;
  let end = 0;
  let seconds = 0;
  let history: History | undefined;
  try {
    for (const phase of schedule) {
      end += phase.epochs;
      const target = end;
      let next: TrainerState | undefined;
      history = await train(vae, data, {
        ...options,
        epochs: target,
        learningRate: phase.learningRate,
        ...(state ? { resume: state } : {}),
        onEpochEnd: async (record, capture) => {
          if (record.epoch === target) next = await capture();
        },
      });
      seconds += history.seconds;
      if (state) tf.dispose(state.optimizer.map((o) => o.tensor));
      state = next;
    }
  } finally {
    if (state) tf.dispose(state.optimizer.map((o) => o.tensor));
  }
  if (!history) throw new Error('schedule: expected at least one phase; got none');
  return { ...history, seconds };
}
