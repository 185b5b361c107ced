import type { ContainerModule } from 'inversify';
import { ensureBackend } from '../backend/select-backend.js';
import type { Vae } from '../core/vae.js';
import { createVae } from '../config/create-vae.js';
import { parseConfig, type VaeConfig } from '../config/schema.js';
import {
  assignSavedWeights,
  checkManifest,
  CONFIG_FILE,
  MODEL_FILE,
  NonFiniteWeightsError,
  nonFiniteValues,
  SavedModelError,
  WEIGHTS_FILE,
  type ModelManifest,
  upgradeSavedConfig,
} from './saved-model-format.js';

export interface UrlLoadOptions {
  /** User plugin modules the model's config names (built-ins are found by name). */
  plugins?: readonly ContainerModule[];
  /** Load weights that are NaN or ±Infinity, to inspect them (otherwise `NonFiniteWeightsError`). */
  allowNonFinite?: boolean;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: (url: string) => Promise<Response>;
}

export interface UrlLoadedModel {
  vae: Vae;
  /** config.json, validated (defaults filled in). */
  config: VaeConfig;
  manifest: ModelManifest;
  /** The base URL the files were read from (ends with `/`). */
  url: string;
}

const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (v) => v.toString(16).padStart(2, '0')).join('');

/**
 * Loads a saved model from the URL of its directory (`…/run/`, or `…/run/model.json`) — the
 * browser's counterpart of `loadSavedModel(dir)`, reading the same three files over HTTP:
 * model.json (format version, tfjs weights manifest, size and SHA-256 of the other files),
 * config.json and weights.bin. Each file's size is checked against model.json, and its SHA-256
 * where the platform has `crypto.subtle` (browsers on https or localhost, Node); the weights must
 * be finite and fit the model rebuilt from config.json (plugins found by name). Errors name the
 * URL, the file and what was found (`SavedModelError`, `NonFiniteWeightsError`).
 */
export async function loadSavedModelFromUrl(url: string, options: UrlLoadOptions = {}): Promise<UrlLoadedModel> {
  const doFetch = options.fetch ?? ((u: string) => globalThis.fetch(u));
  const base = url.endsWith(`/${MODEL_FILE}`) ? url.slice(0, -MODEL_FILE.length) : url.endsWith('/') ? url : `${url}/`;
  const get = async (name: string): Promise<Uint8Array> => {
    let res: Response;
    try {
      res = await doFetch(base + name);
    } catch (e) {
      throw new SavedModelError(base, `cannot fetch ${name}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new SavedModelError(base, `cannot fetch ${name}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  await ensureBackend();
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await get(MODEL_FILE))) as ModelManifest;
  } catch (e) {
    if (e instanceof SavedModelError) throw e;
    throw new SavedModelError(base, `${MODEL_FILE} is not JSON: ${(e as Error).message}`);
  }
  checkManifest(base, manifest);
  const [configBytes, weightBytes] = await Promise.all([get(CONFIG_FILE), get(WEIGHTS_FILE)]);
  const subtle = globalThis.crypto?.subtle;
  for (const [name, bytes] of [[CONFIG_FILE, configBytes], [WEIGHTS_FILE, weightBytes]] as const) {
    const listed = manifest.files[name]!;
    if (bytes.byteLength !== listed.bytes) {
      throw new SavedModelError(base, `${name} has ${bytes.byteLength} bytes; ${MODEL_FILE} lists ${listed.bytes} (the files are of different saves, or one was edited)`);
    }
    if (subtle) {
      const digest = hex(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
      if (digest !== listed.sha256) throw new SavedModelError(base, `${name} has SHA-256 ${digest}; ${MODEL_FILE} lists ${listed.sha256} (the files are of different saves, or one was edited)`);
    }
  }
  const specs = manifest.weightsManifest[0]!.weights;
  if (!options.allowNonFinite) {
    const bad = nonFiniteValues(weightBytes, specs);
    if (bad.length) throw new NonFiniteWeightsError(base, WEIGHTS_FILE, bad, 'cannot load the model (pass allowNonFinite to inspect it)', 'holds');
  }
  let config: VaeConfig;
  try {
    config = parseConfig(upgradeSavedConfig(JSON.parse(new TextDecoder().decode(configBytes))));
  } catch (e) {
    throw new SavedModelError(base, `${CONFIG_FILE}: ${(e as Error).message}`);
  }
  let vae: Vae;
  try {
    vae = createVae(config, { plugins: options.plugins ?? [] });
  } catch (e) {
    throw new SavedModelError(base, `cannot rebuild the model from ${CONFIG_FILE}: ${(e as Error).message}`);
  }
  try {
    assignSavedWeights(base, vae, specs, weightBytes);
  } catch (e) {
    vae.dispose();
    throw e;
  }
  return { vae, config, manifest, url: base };
}

/** `loadVaeFromUrl(url, { plugins })`: the Vae of a saved model served over HTTP (see `loadSavedModelFromUrl`). */
export async function loadVaeFromUrl(url: string, options: UrlLoadOptions = {}): Promise<Vae> {
  return (await loadSavedModelFromUrl(url, options)).vae;
}
