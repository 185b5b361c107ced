import type { ContainerModule } from 'inversify';
import { tf } from '../core/tf.js';
import type { Vae } from '../core/vae.js';
import type { EpochRecord, RandomState, TrainerState } from './trainer.js';
import {
  decodeWeightGroup,
  loadSavedModel,
  nonFiniteValues,
  NonFiniteWeightsError,
  saveVae,
  SavedModelError,
  type LoadedModel,
  type LoadOptions,
  type WeightGroupFile,
  type WriteStage,
} from './saved-model.js';

/** The optimiser's moments and iteration count, tfjs binary layout (manifest in model.json `checkpoint.optimizer`). */
export const OPTIMIZER_FILE = 'optimizer.bin';

/** What model.json of a checkpoint holds under `checkpoint`. */
export interface CheckpointInfo {
  /** Any further JSON fields of the trainer state are kept as they are. */
  [field: string]: unknown;
  /** Epochs completed (0: the initial weights, before any training). */
  epoch: number;
  steps: number;
  modelRandom?: RandomState;
  dataRandom?: RandomState;
  history: EpochRecord[];
  /** tfjs weights manifest group of optimizer.bin (absent at epoch 0). */
  optimizer?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] };
}

export interface SaveCheckpointOptions {
  /** The whole run config (config.json). */
  config: unknown;
  /** User plugin module paths (recorded as a hint for loading). */
  plugins?: string[];
  /** Test hook: throw at a stage of the write to simulate a crash (see `writeFileSet`). */
  stage?: WriteStage;
}

/**
 * Saves a training checkpoint into a run directory: a saved model (config.json, model.json,
 * weights.bin — loadable by `loadVae`) plus optimizer.bin and the trainer state (epoch, steps,
 * random-generator states, history) in model.json. `state` is what the trainer's `onEpochEnd`
 * captures (its tensors stay the caller's); `null` saves the initial weights as epoch 0.
 * Written atomically as one set: a crash during the save leaves the previous checkpoint loadable.
 * Refused (`NonFiniteWeightsError`, nothing written) when a weight or optimiser moment is not finite.
 */
export async function saveCheckpoint(dir: string, vae: Vae, state: TrainerState | null, options: SaveCheckpointOptions): Promise<void> {
  let checkpoint: CheckpointInfo = { epoch: 0, steps: 0, history: [] };
  const extraFiles: WeightGroupFile[] = [];
  if (state) {
    const { data, specs } = await tf.io.encodeWeights(state.optimizer.map((w) => ({ name: w.name, tensor: w.tensor })));
    extraFiles.push({ name: OPTIMIZER_FILE, bytes: new Uint8Array(data as ArrayBuffer), specs });
    // Every JSON field of the state is kept (epoch, steps, random states, history, and any the
    // trainer adds later); the optimiser tensors go to optimizer.bin.
    const { optimizer: _tensors, ...json } = state;
    checkpoint = { ...json, optimizer: { paths: [OPTIMIZER_FILE], weights: specs } };
  }
  await saveVae(vae, dir, {
    config: options.config,
    extraFiles,
    checkpoint,
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...(options.stage ? { stage: options.stage } : {}),
  });
}

export interface LoadedCheckpoint extends LoadedModel {
  /** Epochs completed. */
  epoch: number;
  history: EpochRecord[];
  /**
   * The trainer state to pass as `train(…, { resume })` (the caller disposes its tensors after
   * training, see `disposeState`); null at epoch 0 (start training afresh: same weights, same seed).
   */
  state: TrainerState | null;
}

/**
 * Loads the last complete checkpoint of a run directory (model and trainer state); options as for
 * `loadSavedModel` (non-finite optimiser moments are refused too, unless `allowNonFinite`).
 */
export async function loadCheckpoint(dir: string, options: LoadOptions & { plugins?: readonly ContainerModule[] } = {}): Promise<LoadedCheckpoint> {
  const loaded = await loadSavedModel(dir, options);
  const info = loaded.manifest.checkpoint as CheckpointInfo | undefined;
  if (!info || typeof info !== 'object' || !Number.isInteger(info.epoch)) {
    loaded.vae.dispose();
    throw new SavedModelError(dir, 'a saved model without training state (not a checkpoint of `vaekit train`): it cannot be resumed');
  }
  let state: TrainerState | null = null;
  if (info.epoch > 0) {
    if (!info.optimizer || !info.modelRandom || !info.dataRandom) {
      loaded.vae.dispose();
      throw new SavedModelError(dir, `checkpoint at epoch ${info.epoch} lacks the optimiser or random-generator state`);
    }
    const bytes = loaded.file(OPTIMIZER_FILE);
    const bad = options.allowNonFinite ? [] : nonFiniteValues(bytes, info.optimizer.weights);
    if (bad.length) {
      loaded.vae.dispose();
      throw new NonFiniteWeightsError(dir, OPTIMIZER_FILE, bad, `cannot resume from the checkpoint of epoch ${info.epoch} (pass allowNonFinite to inspect it)`, 'holds');
    }
    const tensors = decodeWeightGroup(bytes, info.optimizer.weights);
    state = {
      ...(info as unknown as TrainerState),
      optimizer: info.optimizer.weights.map((s) => ({ name: s.name, tensor: tensors[s.name]! })),
    };
  }
  return { ...loaded, epoch: info.epoch, history: info.history ?? [], state };
}

/** Releases the tensors of a trainer state (a captured or loaded checkpoint). */
export function disposeState(state: TrainerState | null | undefined): void {
  if (state) tf.dispose(state.optimizer.map((w) => w.tensor));
}
