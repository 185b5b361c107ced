import type { ContainerModule } from 'inversify';
import { tf } from '../core/tf.js';
import { ensureBackend } from '../backend/select-backend.js';
import type { ModelSpec, Vae } from '../core/vae.js';
import { ConfigError } from '../config/errors.js';
import { createVae } from '../config/create-vae.js';
import { parseConfig, type VaeConfig } from '../config/schema.js';
import { describeSave, readFileSet, readPreviousSet, writeFileSet, type ReadSet, type SetFile, type SetRecovery, type WriteStage } from './file-set.js';
import {
  assignSavedWeights,
  checkManifest,
  CONFIG_FILE,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  NonFiniteWeightsError,
  nonFiniteValues,
  SavedModelError,
  WEIGHTS_FILE,
  type ModelManifest,
  upgradeSavedConfig,
} from './saved-model-format.js';
import { heldLock, lockDirectory } from './run-lock.js';
import { ensureDirectory } from './output-path.js';

export { MODEL_FILE, previousName, SavedModelError, writeFileAtomic, writeFileSet, type SetFile, type SetRecovery, type WriteStage } from './file-set.js';
export { CONFIG_FILE, MODEL_FORMAT, MODEL_FORMAT_VERSION, NonFiniteWeightsError, WEIGHTS_FILE, nonFiniteValues, upgradeSavedConfig, type ModelManifest } from './saved-model-format.js';

export interface WeightGroupFile extends SetFile {
  /** The tfjs weights manifest entries of `bytes`: its float32 values are checked to be finite before writing. */
  specs: readonly tf.io.WeightsManifestEntry[];
}

/** Whether a set's model.json passes `checkManifest`. */
function checkedManifest(set: ReadSet): boolean {
  try {
    checkManifest('', set.manifest as ModelManifest);
    return true;
  } catch {
    return false;
  }
}

export interface SaveOptions {
  /** The config stored as config.json (default `{ model: vae.spec }` with defaults filled in). */
  config?: unknown;
  /** User plugin module paths, recorded as a hint for loading. */
  plugins?: string[];
  /** More files for the set (checkpoints add optimizer.bin; weight groups are checked to be finite). */
  extraFiles?: (SetFile | WeightGroupFile)[];
  /** Stored as `checkpoint` in model.json. */
  checkpoint?: unknown;
  /** Test hook (see `WriteStage`). */
  stage?: WriteStage;
}

/** The weights of a Vae as a tfjs weights manifest group and its bytes. */
export async function encodeVaeWeights(vae: Vae): Promise<{ specs: tf.io.WeightsManifestEntry[]; bytes: Uint8Array }> {
  const named = vae.variables().map((v) => ({ name: v.name, tensor: v.variable as tf.Tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  return { specs, bytes: new Uint8Array(data as ArrayBuffer) };
}

/**
 * Saves a model to `dir` (created if needed): `config.json` (the config it was built from),
 * `weights.bin` (the weights, tfjs binary layout) and `model.json` (format version, the model
 * section, the tfjs weights manifest `[{ paths: ['weights.bin'], weights }]`, and sizes and
 * SHA-256 of the other files). The set is written atomically (see `writeFileSet`): a crash
 * during the save leaves the previous save loadable. The directory is locked for the save (unless
 * this process holds its lock already); every weight must be finite (`NonFiniteWeightsError`).
 */
export async function saveVae(vae: Vae, dir: string, options: SaveOptions = {}): Promise<void> {
  const config = options.config ?? { model: vae.spec };
  const { specs, bytes } = await encodeVaeWeights(vae);
  const bad = nonFiniteValues(bytes, specs);
  if (bad.length) throw new NonFiniteWeightsError(dir, WEIGHTS_FILE, bad, 'refusing to save (the previous save is kept)');
  for (const f of options.extraFiles ?? []) {
    if (!('specs' in f)) continue;
    const badExtra = nonFiniteValues(f.bytes, f.specs);
    if (badExtra.length) throw new NonFiniteWeightsError(dir, f.name, badExtra, 'refusing to save (the previous save is kept)');
  }
  ensureDirectory(dir, dir);
  const files: SetFile[] = [
    { name: CONFIG_FILE, bytes: new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`) },
    { name: WEIGHTS_FILE, bytes },
    ...(options.extraFiles ?? []).map((f) => ({ name: f.name, bytes: f.bytes })),
  ];
  const manifest: Omit<ModelManifest, 'files'> = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    model: vae.spec,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
    ...(options.plugins?.length ? { plugins: options.plugins } : {}),
    ...(options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {}),
    savedAt: new Date().toISOString(),
  };
  // One writer per directory: this process's lock (a training run holds one), else one for this save.
  const held = heldLock(dir);
  const own = held ? null : await lockDirectory(dir);
  try {
    (held ?? own)!.assertHeld();
    writeFileSet(dir, files, manifest, options.stage);
  } finally {
    await own?.release();
  }
}

export interface LoadOptions {
  /** User plugin modules the model's config names (built-ins are found by name). */
  plugins?: readonly ContainerModule[];
  /** Load the previous save when the current files were edited or damaged after their save (otherwise an error naming the file). */
  usePrevious?: boolean;
  /** Load weights that are NaN or ±Infinity, to inspect them (otherwise `NonFiniteWeightsError`). */
  allowNonFinite?: boolean;
}

export interface LoadedModel {
  vae: Vae;
  /** config.json, validated (defaults filled in). */
  config: VaeConfig;
  manifest: ModelManifest;
  /** True when the previous complete save was loaded (see `recovery` for why). */
  recovered: boolean;
  /** Why the previous save was loaded, and what it is. */
  recovery?: SetRecovery;
  /** The bytes of another file of the loaded set (e.g. optimizer.bin of a checkpoint), exactly those whose hash was checked. */
  file(name: string): Buffer;
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Decodes a tfjs weights group from bytes; the caller owns the tensors. */
export function decodeWeightGroup(bytes: Buffer, specs: tf.io.WeightsManifestEntry[]): tf.NamedTensorMap {
  return tf.io.decodeWeights(toArrayBuffer(bytes), specs);
}

/**
 * Loads a saved model directory (or a training run directory, which is one): rebuilds the
 * Vae from config.json with `createVae` (plugins found by name; pass user plugins in
 * `plugins`), checks the format version and that every weight in model.json exists in the
 * rebuilt model with the same shape and that every weight is finite, then assigns the weights.
 * Each file is read once and the bytes used are those whose hash was checked; how an unverified
 * set is handled (a save in flight, an interrupted save, an edited file) is `readFileSet`'s.
 * Errors say which file, which weight and what to do.
 */
export async function loadSavedModel(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  await ensureBackend();
  let set: ReadSet = await readFileSet(dir, options.usePrevious ? { usePrevious: true } : {});
  checkManifest(dir, set.manifest as ModelManifest);
  // Non-finite weights (saved by an older vaekit, or written by hand): refused, or with usePrevious the previous save.
  const finiteProblem = (s: ReadSet) => (options.allowNonFinite ? [] : nonFiniteValues(s.file(WEIGHTS_FILE), (s.manifest as ModelManifest).weightsManifest[0]!.weights));
  const bad = finiteProblem(set);
  if (bad.length) {
    const prev = set.previous ? null : readPreviousSet(dir);
    const prevUsable = prev !== null && checkedManifest(prev) && finiteProblem(prev).length === 0;
    if (options.usePrevious && prevUsable) {
      const total = bad.reduce((a, c) => a + c.count, 0);
      set = { ...prev, recovery: { kind: 'non-finite', found: `${WEIGHTS_FILE} holds ${total} non-finite values (NaN or ±Infinity)`, previous: describeSave(prev.manifest) } };
    } else {
      const hint = prevUsable ? `load the previous save (${describeSave(prev.manifest)}) with usePrevious (vaekit: --use-previous), or pass allowNonFinite to inspect it` : 'pass allowNonFinite to inspect it';
      throw new NonFiniteWeightsError(dir, WEIGHTS_FILE, bad, `cannot load the model (${hint})`, 'holds');
    }
  }
  const manifest = set.manifest as ModelManifest;
  let config: VaeConfig;
  try {
    config = parseConfig(upgradeSavedConfig(JSON.parse(set.file(CONFIG_FILE).toString('utf8'))));
  } catch (e) {
    throw new SavedModelError(dir, `${CONFIG_FILE}: ${(e as Error).message}`);
  }
  let vae: Vae;
  try {
    vae = createVae(config, { plugins: options.plugins ?? [] });
  } catch (e) {
    const hint =
      e instanceof ConfigError && /registered .* plugin/.test(e.message) && manifest.plugins?.length
        ? ` (this model was saved with the user plugin${manifest.plugins.length > 1 ? 's' : ''} ${manifest.plugins.join(', ')}: pass ${manifest.plugins.map((p) => `--plugin ${p}`).join(' ')})`
        : '';
    throw new SavedModelError(dir, `cannot rebuild the model from ${CONFIG_FILE}: ${(e as Error).message}${hint}`);
  }
  try {
    assignSavedWeights(dir, vae, manifest.weightsManifest[0]!.weights, set.file(WEIGHTS_FILE));
  } catch (e) {
    vae.dispose();
    throw e;
  }
  return { vae, config, manifest, recovered: set.previous, ...(set.recovery ? { recovery: set.recovery } : {}), file: set.file };
}

/** `loadVae(dir, { plugins })`: the Vae of a saved model (see `loadSavedModel`). */
export async function loadVae(dir: string, options: LoadOptions = {}): Promise<Vae> {
  return (await loadSavedModel(dir, options)).vae;
}
