import { describe, expect, it } from 'vitest';
import { ConfigError, createVae, tf } from '../../plugins/index.js';

const base = { latentDim: 4, dataDim: 16, encoder: { type: 'gaussian', hidden: [16] }, likelihood: { type: 'bernoulli', hidden: [16] } };

describe('model sizes that cannot fit in memory', () => {
  it('are refused before anything is allocated, naming the field and the bytes a layer would need', () => {
    createVae(base).dispose();
    const before = tf.memory().numTensors;
    const cases: [Parameters<typeof createVae>[0], RegExp][] = [
      // The encoder's output layer: 16 hidden × 2·10⁹ (mean and log-std) weights.
      [{ ...base, latentDim: 1e9 }, /^model\.encoder: expected sizes that fit in memory \(model\.latentDim 1000000000, model\.dataDim 16\): .*need 64\.0 GB \(6\.400e\+10 bytes\); at most 2\.1 GB fit; got /],
      // 16·10⁸ + 10⁸ weights and biases = 1.7·10⁹ float32 values.
      [{ ...base, encoder: { type: 'gaussian', hidden: [1e8] } }, /^model\.encoder: .*a network: layers 16 → 100000000: 1700000000 float32 values need 6\.8 GB/],
      // 4·10⁸ + 10⁸ + 16·10⁸ + 16 = 2100000016 values: refused although the first layer alone (1.6 GB) would fit.
      [{ ...base, likelihood: { type: 'bernoulli', hidden: [1e8] } }, /^model\.likelihood: .*a network: layers 4 → 100000000 → 16: 2100000016 float32 values need 8\.4 GB/],
      [{ ...base, latentDim: 1e9, encoder: { type: 'planar', hidden: [16], steps: 2 } }, /^model\.encoder: .*need 64\.0 GB/],
    ];
    for (const [config, message] of cases) {
      let error: unknown;
      try {
        createVae(config).dispose();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
