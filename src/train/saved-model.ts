import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ContainerModule } from 'inversify';
import { tf } from '../core/tf.js';
import { ensureBackend } from '../backend/select-backend.js';
import type { ModelSpec, Vae } from '../core/vae.js';
import { ConfigError } from '../config/errors.js';
import { createVae } from '../config/create-vae.js';
import { parseConfig, type VaeConfig } from '../config/schema.js';

/** `format` of a vaekit model.json. */
export const MODEL_FORMAT = 'vaekit-model';
/**
 * The model.json layout this version writes and reads. Version 1: `weightsManifest` (tfjs
 * format, one group with `paths: ['weights.bin']`), `files` (size and SHA-256 of every other
 * file of the set), optional `checkpoint` (trainer state, optimiser weights in optimizer.bin).
 */
export const MODEL_FORMAT_VERSION = 1;

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
export const CONFIG_FILE = 'config.json';
/** The name of a file of the previous complete set, kept while a new one is written (`.prev-model.json`, …). */
export const previousName = (name: string) => `.prev-${name}`;

/** The model.json of a saved model. */
export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  version: number;
  /** The model section the weights belong to (also in config.json). */
  model: ModelSpec;
  /** tfjs weights manifest: `[{ paths: ['weights.bin'], weights: [{ name, shape, dtype }] }]`. */
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  /** Size and SHA-256 of each file of the set (config.json, weights.bin, …): a half-written set is detected. */
  files: Record<string, { bytes: number; sha256: string }>;
  /** User plugin modules the model was trained with (paths as given), as a hint when loading. */
  plugins?: string[];
  /** Present in training checkpoints: what `train` needs to continue (see checkpoint.ts). */
  checkpoint?: unknown;
  savedAt: string;
}

/** A saved model directory that is missing, damaged or of another version. */
export class SavedModelError extends Error {
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(`${dir}: ${message}`);
    this.name = 'SavedModelError';
  }
}

export interface SetFile {
  name: string;
  bytes: Uint8Array;
}

/** Test hook: called at each stage of a set write (`temp-written`, `backed-up`, `renamed:<file>`); throwing simulates a crash there. */
export type WriteStage = (stage: string) => void;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems cannot fsync a directory; the renames are still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `bytes` to a new temporary file in `dir`, flushed to disk; returns its path. */
function writeTemp(dir: string, name: string, bytes: Uint8Array): string {
  const tmp = join(dir, `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'wx');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  return tmp;
}

/** Writes one file atomically: a temporary file in the same folder, fsync, rename over the target. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const dir = dirname(path);
  const name = basename(path);
  const tmp = writeTemp(dir, name, bytes);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

/** The files of a set as named by the manifest (`base`) or of the previous set. */
const setPath = (dir: string, name: string, previous: boolean) => join(dir, previous ? previousName(name) : name);

/** Reads and checks a manifest and the sizes and hashes of its files; null when the set is incomplete. */
function verifiedSet(dir: string, previous: boolean): { manifest: ModelManifest; problem?: undefined } | { manifest?: undefined; problem: string } {
  const mPath = setPath(dir, MODEL_FILE, previous);
  if (!existsSync(mPath)) return { problem: `no ${MODEL_FILE}` };
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(readFileSync(mPath, 'utf8')) as ModelManifest;
  } catch (e) {
    return { problem: `${MODEL_FILE} is not valid JSON (${(e as Error).message})` };
  }
  if (manifest === null || typeof manifest !== 'object' || typeof manifest.files !== 'object' || manifest.files === null) {
    return { manifest };
  }
  for (const [name, want] of Object.entries(manifest.files)) {
    const p = setPath(dir, name, previous);
    if (!existsSync(p)) return { problem: `${name} is missing` };
    if (statSync(p).size !== want.bytes) return { problem: `${name} has ${statSync(p).size} bytes; ${MODEL_FILE} expects ${want.bytes}` };
    if (sha256(readFileSync(p)) !== want.sha256) return { problem: `${name} does not match the checksum in ${MODEL_FILE}` };
  }
  return { manifest };
}

/**
 * Writes a set of files whose last file `model.json` commits it (it holds the sizes and hashes
 * of the others). Every file goes to a temporary file in `dir` first (fsync'd); then, if the
 * current set is complete, it is kept as `*.prev` (hard links named `.prev-<file>`, so no copy); then the temporary
 * files are renamed over the targets, model.json last. At every moment either the current set
 * or the `.prev` set is complete, so a crash or a full disk never loses the last good save;
 * `readSavedSet` falls back to `.prev` when the current set does not verify.
 */
export function writeFileSet(dir: string, files: readonly SetFile[], manifest: Omit<ModelManifest, 'files'>, stage: WriteStage = () => {}): void {
  const full: ModelManifest = {
    ...manifest,
    files: Object.fromEntries(files.map((f) => [f.name, { bytes: f.bytes.length, sha256: sha256(f.bytes) }])),
  } as ModelManifest;
  const all: SetFile[] = [...files, { name: MODEL_FILE, bytes: new TextEncoder().encode(`${JSON.stringify(full, null, 1)}\n`) }];
  const temps: string[] = [];
  try {
    for (const f of all) temps.push(writeTemp(dir, f.name, f.bytes));
    stage('temp-written');
    // Keep the current set as the previous one, only if it is complete (never replace a good
    // .prev set by a half-written current one).
    if (verifiedSet(dir, false).manifest) {
      const names = [...new Set([...Object.keys(verifiedSet(dir, false).manifest!.files ?? {}), MODEL_FILE])];
      for (const name of names) {
        const link = join(dir, `.${name}.prev-${process.pid}-${randomBytes(4).toString('hex')}`);
        linkSync(join(dir, name), link);
        renameSync(link, setPath(dir, name, true));
      }
      fsyncDir(dir);
    }
    stage('backed-up');
  } catch (e) {
    for (const t of temps) rmSync(t, { force: true });
    throw e;
  }
  for (let i = 0; i < all.length; i++) {
    renameSync(temps[i]!, join(dir, all[i]!.name));
    temps[i] = '';
    stage(`renamed:${all[i]!.name}`);
  }
  fsyncDir(dir);
}

/** Reads the current complete set of a model directory, or the previous one if the current was half-written. */
export function readSavedSet(dir: string): { manifest: ModelManifest; previous: boolean; file(name: string): Buffer } {
  if (!existsSync(dir)) throw new SavedModelError(dir, 'no such directory (a saved model is a directory with config.json, model.json and weights.bin)');
  if (!statSync(dir).isDirectory()) throw new SavedModelError(dir, 'not a directory (a saved model is a directory with config.json, model.json and weights.bin)');
  const current = verifiedSet(dir, false);
  let previous = false;
  let manifest = current.manifest;
  if (!manifest) {
    const prev = verifiedSet(dir, true);
    if (!prev.manifest) {
      if (current.problem === `no ${MODEL_FILE}` && prev.problem === `no ${MODEL_FILE}`) {
        throw new SavedModelError(dir, `not a saved vaekit model: no ${MODEL_FILE} (a saved model has config.json, model.json and weights.bin; train one with \`vaekit train\`)`);
      }
      throw new SavedModelError(dir, `the saved model is damaged: ${current.problem}${prev.problem !== `no ${MODEL_FILE}` ? `; the previous copy too: ${prev.problem}` : ''}`);
    }
    manifest = prev.manifest;
    previous = true;
  }
  checkManifest(dir, manifest);
  return { manifest, previous, file: (name) => readFileSync(setPath(dir, name, previous)) };
}

function checkManifest(dir: string, m: ModelManifest): void {
  if (m === null || typeof m !== 'object' || m.format !== MODEL_FORMAT) {
    throw new SavedModelError(dir, `${MODEL_FILE} is not a vaekit model (format ${JSON.stringify((m as { format?: unknown })?.format)}; expected "${MODEL_FORMAT}")`);
  }
  if (!Number.isInteger(m.version) || m.version < 1 || m.version > MODEL_FORMAT_VERSION) {
    throw new SavedModelError(
      dir,
      `${MODEL_FILE} has format version ${JSON.stringify(m.version)}; this vaekit reads version ${MODEL_FORMAT_VERSION}` +
        (m.version > MODEL_FORMAT_VERSION ? ' (the model was saved by a newer vaekit: upgrade vaekit to load it)' : ''),
    );
  }
  const group = m.weightsManifest?.[0];
  if (!Array.isArray(m.weightsManifest) || m.weightsManifest.length !== 1 || !group || group.paths?.join() !== WEIGHTS_FILE || !Array.isArray(group.weights)) {
    throw new SavedModelError(dir, `${MODEL_FILE}: expected weightsManifest [{ paths: ["${WEIGHTS_FILE}"], weights: [...] }]; got ${JSON.stringify(m.weightsManifest)?.slice(0, 120)}`);
  }
  if (!m.files || !m.files[WEIGHTS_FILE] || !m.files[CONFIG_FILE]) {
    throw new SavedModelError(dir, `${MODEL_FILE}: "files" must list ${CONFIG_FILE} and ${WEIGHTS_FILE}`);
  }
}

export interface SaveOptions {
  /** The config stored as config.json (default `{ model: vae.spec }` with defaults filled in). */
  config?: unknown;
  /** User plugin module paths, recorded as a hint for loading. */
  plugins?: string[];
  /** More files for the set (checkpoints add optimizer.bin). */
  extraFiles?: SetFile[];
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
 * during the save leaves the previous save loadable.
 */
export async function saveVae(vae: Vae, dir: string, options: SaveOptions = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const config = options.config ?? { model: vae.spec };
  const { specs, bytes } = await encodeVaeWeights(vae);
  const files: SetFile[] = [
    { name: CONFIG_FILE, bytes: new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`) },
    { name: WEIGHTS_FILE, bytes },
    ...(options.extraFiles ?? []),
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
  writeFileSet(dir, files, manifest, options.stage);
}

export interface LoadOptions {
  /** User plugin modules the model's config names (built-ins are found by name). */
  plugins?: readonly ContainerModule[];
}

export interface LoadedModel {
  vae: Vae;
  /** config.json, validated (defaults filled in). */
  config: VaeConfig;
  manifest: ModelManifest;
  /** True when the last save was interrupted and the previous complete save was loaded. */
  recovered: boolean;
  /** Reads another file of the loaded set (e.g. optimizer.bin of a checkpoint). */
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
 * rebuilt model with the same shape, then assigns the weights. Errors say which file, which
 * weight and what to do.
 */
export async function loadSavedModel(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  await ensureBackend();
  const set = readSavedSet(dir);
  const { manifest } = set;
  let config: VaeConfig;
  try {
    config = parseConfig(JSON.parse(set.file(CONFIG_FILE).toString('utf8')));
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
    const specs = manifest.weightsManifest[0]!.weights;
    const mine = vae.getWeights();
    const problems: string[] = [];
    for (const s of specs) {
      const v = mine[s.name];
      if (!v) problems.push(`${WEIGHTS_FILE} has "${s.name}", which the model built from ${CONFIG_FILE} does not`);
      else if (v.shape.join(',') !== s.shape.join(',')) {
        problems.push(`"${s.name}" has shape [${s.shape.join(', ')}] in ${WEIGHTS_FILE}; the model built from ${CONFIG_FILE} expects [${v.shape.join(', ')}]`);
      }
    }
    const saved = new Set(specs.map((s) => s.name));
    for (const name of Object.keys(mine)) if (!saved.has(name)) problems.push(`the model built from ${CONFIG_FILE} has "${name}", which ${WEIGHTS_FILE} lacks`);
    if (problems.length) {
      throw new SavedModelError(
        dir,
        `the weights do not fit the model (was it saved by another version of a plugin?): ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`,
      );
    }
    const tensors = decodeWeightGroup(set.file(WEIGHTS_FILE), specs);
    try {
      vae.setWeights(tensors);
    } finally {
      tf.dispose(Object.values(tensors));
    }
  } catch (e) {
    vae.dispose();
    throw e;
  }
  return { vae, config, manifest, recovered: set.previous, file: set.file };
}

/** `loadVae(dir, { plugins })`: the Vae of a saved model (see `loadSavedModel`). */
export async function loadVae(dir: string, options: LoadOptions = {}): Promise<Vae> {
  return (await loadSavedModel(dir, options)).vae;
}
