import { describe, expect, it } from 'vitest';
import { createVae, tf } from '../../plugins/index.js';
import { Random } from '../../src/core/random.js';
import { Dense } from '../../src/nn/dense.js';
import { denseInitialValues } from '../../src/nn/weight-init.js';

const model = {
  latentDim: 50,
  encoder: { type: 'gaussian', hidden: [200, 200], activation: 'tanh' },
  likelihood: { type: 'bernoulli', hidden: [200, 200], activation: 'tanh' },
};

function values(vae: ReturnType<typeof createVae>): Record<string, Float32Array> {
  return Object.fromEntries(vae.variables().map((v) => [v.name, v.variable.dataSync() as Float32Array]));
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const variance = (a: Float32Array) => a.reduce((s, v) => s + v * v, 0) / a.length;

describe('dense-layer initialisation', () => {
  it('draws PyTorch nn.Linear weights and biases from U(±1/√in): bound reached, variance 1/(3·in)', () => {
    const { kernel, bias } = denseInitialValues(784, 200, 'pytorch', new Random(3));
    const a = 1 / Math.sqrt(784);
    expect(maxAbs(kernel)).toBeLessThanOrEqual(a);
    expect(maxAbs(kernel)).toBeGreaterThan(0.999 * a);
    // 156,800 draws: the sample variance is within 1 % of a²/3 (its relative sd is ≈ 0.3 %).
    expect(variance(kernel) / (a * a / 3)).toBeCloseTo(1, 1.7);
    expect(maxAbs(bias)).toBeLessThanOrEqual(a);
    expect(bias.every((v) => v !== 0)).toBe(true);
  });

  it('keeps Glorot-uniform W with zero biases as the default, bit for bit what a Dense layer holds', () => {
    const { kernel, bias } = denseInitialValues(784, 200, 'glorot', new Random(3));
    expect(maxAbs(kernel)).toBeLessThanOrEqual(Math.sqrt(6 / 984));
    expect(variance(kernel) / (6 / 984 / 3)).toBeCloseTo(1, 1.7);
    expect(bias.every((v) => v === 0)).toBe(true);
    for (const init of ['glorot', 'pytorch'] as const) {
      const d = new Dense(30, 20, new Random(5), { init });
      const want = denseInitialValues(30, 20, init, new Random(5));
      expect(d.kernel.dataSync()).toEqual(want.kernel);
      expect(d.bias.dataSync()).toEqual(want.bias);
      d.dispose();
    }
  });

  it("model.init 'pytorch' redraws every dense layer of the model; absent and 'glorot' build the same weights", () => {
    const plain = createVae(model, { seed: 4 });
    const glorot = createVae({ ...model, init: 'glorot' }, { seed: 4 });
    const torch = createVae({ ...model, init: 'pytorch' }, { seed: 4 });
    const p = values(plain);
    const g = values(glorot);
    const t = values(torch);
    expect(Object.keys(t)).toEqual(Object.keys(p));
    for (const name of Object.keys(p)) expect(g[name]).toEqual(p[name]);
    const shapes = Object.fromEntries(torch.variables().map((v) => [v.name, v.variable.shape]));
    for (const name of Object.keys(t).filter((n) => n.endsWith('/kernel'))) {
      const prefix = name.slice(0, -'/kernel'.length);
      const a = 1 / Math.sqrt(shapes[name]![0]!);
      expect(maxAbs(t[name]!), name).toBeLessThanOrEqual(a);
      expect(maxAbs(t[name]!), name).toBeGreaterThan(0.95 * a);
      expect(maxAbs(t[`${prefix}/bias`]!), prefix).toBeGreaterThan(0.5 * a);
      expect(maxAbs(t[`${prefix}/bias`]!), prefix).toBeLessThanOrEqual(a);
    }
    // 2 encoder layers + mean and log-std heads + 3 decoder layers, each redrawn.
    expect(Object.keys(t).filter((n) => n.endsWith('/kernel')).length).toBe(7);
    for (const name of Object.keys(p)) expect(t[name], name).not.toEqual(p[name]);
    expect(torch.spec).toMatchObject({ init: 'pytorch' });
    for (const v of [plain, glorot, torch]) v.dispose();
  });

  it('leaves the zero-initialised head of a planar flow at zero (the flow starts at the identity)', () => {
    const vae = createVae({ ...model, latentDim: 4, encoder: { type: 'planar', hidden: [8], steps: 2 }, likelihood: { type: 'bernoulli', hidden: [8] }, init: 'pytorch' }, { seed: 1 });
    const zero = vae.variables().filter((v) => v.name.endsWith('/kernel') && v.variable.dataSync().every((x) => x === 0));
    expect(zero.length).toBeGreaterThan(0);
    vae.dispose();
  });

  it('makes no tensors beyond the variables', () => {
    createVae({ ...model, init: 'pytorch' }).dispose();
    const before = tf.memory().numTensors;
    createVae({ ...model, init: 'pytorch' }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses an unknown init naming the field, the value and the choices', () => {
    expect(() => createVae({ ...model, init: 'he' } as never)).toThrow(/model\.init: expected one of "glorot"\|"pytorch"; got "he"|model\.init: .*"glorot".*"pytorch".*got "he"/);
  });
});
