import type { ContainerModule } from 'inversify';
import { tf } from '../core/tf.js';
import { currentWeightName, type ModelSpec, type Vae } from '../core/vae.js';
import { createVae } from '../config/create-vae.js';
import type { Dataset } from '../data/dataset.js';
import { train, type History, type TrainOptions } from './trainer.js';

/**
 * A generative model p(x, z) = p(z)·p_θ(x|z) as plain data: the model spec it was built from and
 * the values of its decoder and prior weights by name (`likelihood/…`, `prior/…`). Serialisable,
 * so a decoder trained in one process can be frozen in another.
 */
export interface FrozenParts {
  spec: Pick<ModelSpec, 'latentDim' | 'dataDim' | 'prior' | 'likelihood'>;
  weights: Record<string, { shape: number[]; values: Float32Array }>;
}

/** A copy of a model's decoder and prior: spec and weight values (read with `dataSync`, outside any tidy). */
export function frozenParts(vae: Vae): FrozenParts {
  const weights: FrozenParts['weights'] = {};
  for (const v of vae.variables(['likelihood', 'prior'])) {
    weights[v.name] = { shape: [...v.variable.shape], values: Float32Array.from(v.variable.dataSync() as Float32Array) };
  }
  const { latentDim, dataDim, prior, likelihood } = vae.spec;
  return { spec: { latentDim, dataDim, prior, likelihood }, weights };
}

/** The decoder and prior weights of a model as bytes by name (for byte-identity checks). */
export function decoderPriorBytes(vae: Vae): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const v of vae.variables(['likelihood', 'prior'])) {
    const d = v.variable.dataSync() as Float32Array;
    out[v.name] = new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
  }
  return out;
}

/** Names of weights whose bytes differ between two snapshots (or exist in only one). */
export function changedWeights(before: Record<string, Uint8Array>, after: Record<string, Uint8Array>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed: string[] = [];
  for (const n of names) {
    const a = before[n];
    const b = after[n];
    if (!a || !b || a.length !== b.length || a.some((x, i) => x !== b[i])) changed.push(n);
  }
  return changed.sort();
}

export interface FrozenModelOptions {
  /** User plugin modules (as for `createVae`). */
  plugins?: readonly ContainerModule[];
  /** Seed of the new encoder's initialisation and of the model's noise (default 1). */
  seed?: number;
}

/**
 * A new Vae whose encoder is built from `encoder` (fresh weights) and whose prior and decoder
 * are those of `source` (same specs, weights copied): q_φ(z|x) is new, p(z)·p_θ(x|z) is the
 * source's. Throws when the encoder's latent layout does not fit the source's prior.
 */
export function withFrozenDecoder(source: Vae | FrozenParts, encoder: { type: string; [k: string]: unknown }, { plugins, seed = 1 }: FrozenModelOptions = {}): Vae {
  const given0 = 'variables' in source ? frozenParts(source) : source;
  // Parts serialised before the likelihood's weights were renamed name them `decoder/…`.
  const parts: FrozenParts = { ...given0, weights: Object.fromEntries(Object.entries(given0.weights).map(([n, w]) => [currentWeightName(n), w])) };
  const { latentDim, dataDim, prior, likelihood } = parts.spec;
  const vae = createVae({ latentDim, dataDim, encoder, prior, likelihood }, { seed, ...(plugins ? { plugins } : {}) });
  const mine = new Set(vae.variables(['likelihood', 'prior']).map((v) => v.name));
  const given = Object.keys(parts.weights);
  const missing = [...mine].filter((n) => !(n in parts.weights));
  const extra = given.filter((n) => !mine.has(n));
  if (missing.length || extra.length) {
    vae.dispose();
    throw new Error(
      `frozen decoder: the source's likelihood/prior weights do not match the model built with encoder ${JSON.stringify(encoder)}` +
        (missing.length ? `; missing ${missing.join(', ')}` : '') +
        (extra.length ? `; unexpected ${extra.join(', ')}` : ''),
    );
  }
  const tensors = Object.fromEntries(given.map((n) => [n, tf.tensor(parts.weights[n]!.values, parts.weights[n]!.shape, 'float32')]));
  try {
    vae.setWeights(tensors, { strict: false });
  } catch (e) {
    vae.dispose();
    throw e;
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return vae;
}

/** One encoder of a frozen-decoder comparison. */
export interface FrozenEncoderSpec {
  /** Label in reports (default: the encoder's `type`). */
  name?: string;
  encoder: { type: string; [k: string]: unknown };
}

export interface FrozenDecoderResult {
  name: string;
  encoder: { type: string; [k: string]: unknown };
  /** The trained model (encoder trained, decoder and prior the source's); the caller disposes it. */
  vae: Vae;
  history: History;
}

export interface FrozenDecoderOptions extends Omit<TrainOptions, 'freeze' | 'resume' | 'onEpochEnd'>, FrozenModelOptions {
  /** Called after each encoder is trained (e.g. to evaluate and dispose it). */
  onTrained?: (r: FrozenDecoderResult, index: number) => void | Promise<void>;
}

/**
 * Trains each encoder in `encoders` against one fixed generative model p(x, z) = p(z)·p_θ(x|z)
 * (the prior and decoder of `source`, frozen), with the same budget and seed for every encoder.
 *
 * With p(x, z) shared, log p(x) is the same for every encoder, so the differences of their gaps
 * log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)) are differences of the variational family (plus
 * amortisation) alone. When encoder and decoder are trained together the decoder adapts its
 * posterior to the encoder's family (Cremer, Li & Duvenaud 2018, arXiv:1801.03558, §5.2), so
 * co-trained gaps do not measure this.
 *
 * Each encoder is trained with `train(…, { freeze: ['likelihood', 'prior'] })`; afterwards the
 * decoder and prior weights are compared byte by byte with the source's and an error is thrown
 * if any changed. Every model is returned (the caller disposes them) unless `onTrained` is given,
 * in which case each is passed there and then disposed, and the returned list holds none.
 */
export async function trainAgainstFrozenDecoder(
  source: Vae | FrozenParts,
  encoders: readonly FrozenEncoderSpec[],
  data: Dataset,
  options: FrozenDecoderOptions,
): Promise<FrozenDecoderResult[]> {
  if (encoders.length === 0) throw new Error('encoders: expected at least one encoder spec; got an empty list');
  const { plugins, seed = 1, onTrained, ...trainOptions } = options;
  const parts = 'variables' in source ? frozenParts(source) : source;
  const out: FrozenDecoderResult[] = [];
  for (const [i, e] of encoders.entries()) {
    const vae = withFrozenDecoder(parts, e.encoder, { seed, ...(plugins ? { plugins } : {}) });
    try {
      const before = decoderPriorBytes(vae);
      const history = await train(vae, data, { ...trainOptions, seed, freeze: ['likelihood', 'prior'] });
      const changed = changedWeights(before, decoderPriorBytes(vae));
      if (changed.length) {
        throw new Error(`frozen decoder: training encoder "${e.name ?? e.encoder.type}" changed frozen weights ${changed.join(', ')}`);
      }
      const r: FrozenDecoderResult = { name: e.name ?? e.encoder.type, encoder: e.encoder, vae, history };
      if (onTrained) {
        await onTrained(r, i);
        vae.dispose();
      } else {
        out.push(r);
      }
    } catch (err) {
      vae.dispose();
      throw err;
    }
  }
  return out;
}
