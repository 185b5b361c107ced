/**
 * The saved-model format, browser-safe: what a model.json holds and how it is checked, and how a
 * tfjs weights group is checked and assigned to a rebuilt Vae. Reading the files is the caller's:
 * from disk (./saved-model.ts, Node) or over HTTP (./load-vae-from-url.ts, any platform).
 */
import { tf } from '../core/tf.js';
import { currentWeightName, type ModelSpec, type Vae } from '../core/vae.js';

/** The file whose rename commits a set: it lists the size and SHA-256 of every other file. */
export const MODEL_FILE = 'model.json';

/** A saved model (a directory, or the URL of one) that is missing, damaged or of another version. */
export class SavedModelError extends Error {
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(`${dir}: ${message}`);
    this.name = 'SavedModelError';
  }
}

/** `format` of a vaekit model.json. */
export const MODEL_FORMAT = 'vaekit-model';
/**
 * The model.json layout this version writes and reads. Version 1: `weightsManifest` (tfjs
 * format, one group with `paths: ['weights.bin']`), `files` (size and SHA-256 of every other
 * file of the set), optional `checkpoint` (trainer state, optimiser weights in optimizer.bin).
 */
export const MODEL_FORMAT_VERSION = 1;

export const WEIGHTS_FILE = 'weights.bin';
export const CONFIG_FILE = 'config.json';

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

/** Weights (or optimiser moments) that are NaN or ±Infinity: refused by the writers and, unless asked, by the loader. */
export class NonFiniteWeightsError extends SavedModelError {
  constructor(
    dir: string,
    readonly file: string,
    readonly counts: readonly { name: string; count: number; size: number }[],
    what: string,
    verb: 'holds' | 'would hold' = 'would hold',
  ) {
    const total = counts.reduce((a, c) => a + c.count, 0);
    const listed = counts.slice(0, 3).map((c) => `"${c.name}" (${c.count} of ${c.size})`).join(', ');
    super(dir, `${what}: ${file} ${verb} ${total} non-finite values (NaN or ±Infinity), in ${listed}${counts.length > 3 ? ` and ${counts.length - 3} more` : ''}`);
    this.name = 'NonFiniteWeightsError';
  }
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/**
 * The non-finite values of each float32 tensor of a tfjs weights group (`bytes` laid out as
 * `specs` say, as `tf.io.encodeWeights` writes them); only tensors that have some are listed.
 */
export function nonFiniteValues(bytes: Uint8Array, specs: readonly tf.io.WeightsManifestEntry[]): { name: string; count: number; size: number }[] {
  const out: { name: string; count: number; size: number }[] = [];
  let offset = 0;
  for (const s of specs) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const width = DTYPE_BYTES[s.dtype];
    if (width === undefined || s.quantization) throw new Error(`"${s.name}": cannot check values of dtype ${s.dtype}${s.quantization ? ' (quantized)' : ''}`);
    if (s.dtype === 'float32') {
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size * 4);
      let count = 0;
      for (let i = 0; i < size; i++) if (!Number.isFinite(view.getFloat32(4 * i, true))) count++;
      if (count > 0) out.push({ name: s.name, count, size });
    }
    offset += size * width;
  }
  return out;
}


/** Throws `SavedModelError` unless `m` is a vaekit model.json of a version this vaekit reads, with one weights group and the file list. */
export function checkManifest(dir: string, m: ModelManifest): void {
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

/**
 * A config.json written by an older vaekit, in today's spelling: the two-level encoder and prior
 * were also called `ladder` (a config written by hand is refused with a hint instead; a saved
 * model keeps loading). Other values are returned as they are, for `parseConfig` to check.
 */
export function upgradeSavedConfig(config: unknown): unknown {
  const model = (config as { model?: Record<string, unknown> } | null)?.model;
  if (model === null || typeof model !== 'object') return config;
  const renamed = (spec: unknown) =>
    spec !== null && typeof spec === 'object' && (spec as { type?: unknown }).type === 'ladder' ? { ...spec, type: 'two-level' } : spec;
  return { ...(config as object), model: { ...model, encoder: renamed(model.encoder), prior: renamed(model.prior) } };
}

/**
 * Checks that `specs` (a model.json's weights) name exactly the weights of `vae` (rebuilt from
 * config.json) with the same shapes, then decodes `bytes` (laid out as `specs` say) and assigns
 * them. Errors name the weight, both shapes and the file. Models saved before the likelihood's
 * weights were renamed name them `decoder/…`: read under today's names.
 */
export function assignSavedWeights(dir: string, vae: Vae, savedSpecs: readonly tf.io.WeightsManifestEntry[], bytes: Uint8Array): void {
  const specs = savedSpecs.map((s) => ({ ...s, name: currentWeightName(s.name) }));
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
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const tensors = tf.io.decodeWeights(buffer, specs);
  try {
    vae.setWeights(tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
