import { tf } from '../core/tf.js';
import type { Random } from '../core/random.js';
import type { NamedVariable } from '../core/variables.js';

/** Names of the dense-layer initialisations a config can choose (`model.init`). */
export const WEIGHT_INITS = ['glorot', 'pytorch'] as const;
export type WeightInit = (typeof WEIGHT_INITS)[number];

/**
 * Initial values of a dense layer y = x·W + b, W `[in, out]`, b `[out]`, drawn from `random`
 * (W row-major first, then b):
 *
 *   glorot  — W ~ U(−a, a), a = √(6 / (in + out)), b = 0 (Glorot & Bengio 2010; vaekit's default);
 *   pytorch — W ~ U(−a, a) and b ~ U(−a, a), a = 1/√in (torch.nn.Linear's default: kaiming_uniform
 *             with a = √5 gives gain·√(3/in) = 1/√in, and the bias uses the same bound).
 */
export function denseInitialValues(inDim: number, outDim: number, init: WeightInit, random: Random): { kernel: Float32Array; bias: Float32Array } {
  const kernel = new Float32Array(inDim * outDim);
  const bias = new Float32Array(outDim);
  const limit = init === 'glorot' ? Math.sqrt(6 / (inDim + outDim)) : 1 / Math.sqrt(inDim);
  for (let i = 0; i < kernel.length; i++) kernel[i] = (2 * random.uniform() - 1) * limit;
  if (init === 'pytorch') for (let i = 0; i < outDim; i++) bias[i] = (2 * random.uniform() - 1) * limit;
  return { kernel, bias };
}

/**
 * Redraws every dense layer of a model with `init`: each variable `<p>/kernel` of shape
 * `[in, out]` that has a sibling `<p>/bias` of shape `[out]`, in the order given. Layers whose
 * kernel is all zeros (heads that start a flow at the identity) keep their values. Returns the
 * prefixes of the layers redrawn. `glorot` is what the layers are built with, so only
 * `pytorch` needs this.
 */
export function reinitializeDenseLayers(variables: readonly NamedVariable[], init: WeightInit, random: Random): string[] {
  const byName = new Map(variables.map((v) => [v.name, v.variable]));
  const redrawn: string[] = [];
  for (const { name, variable: kernel } of variables) {
    if (!name.endsWith('/kernel') || kernel.rank !== 2) continue;
    const prefix = name.slice(0, -'/kernel'.length);
    const bias = byName.get(`${prefix}/bias`);
    const [inDim, outDim] = kernel.shape as [number, number];
    if (!bias || bias.rank !== 1 || bias.shape[0] !== outDim) continue;
    const current = kernel.dataSync();
    if (current.every((v) => v === 0)) continue;
    const values = denseInitialValues(inDim, outDim, init, random);
    tf.tidy(() => {
      kernel.assign(tf.tensor2d(values.kernel, [inDim, outDim]));
      bias.assign(tf.tensor1d(values.bias));
    });
    redrawn.push(prefix);
  }
  return redrawn;
}
