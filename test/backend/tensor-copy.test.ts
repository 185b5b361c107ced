import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { selectBackend } from '../../src/backend/select-backend.js';
import { copyTensorInto } from '../../src/backend/tensor-copy.js';
import { useWasmBackend } from '../support/on-wasm.js';

// Copies from the wasm heap and the cpu backend's arrays, whatever backend the suite runs on.
useWasmBackend();

describe('copyTensorInto', () => {
  for (const backend of ['wasm', 'cpu']) {
    it(`copies a float32 tensor's values (or a range of them) into an array at an offset, on ${backend}`, async () => {
      const previous = tf.getBackend();
      await tf.setBackend(backend);
      try {
        const t = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
        const out = new Float32Array(new SharedArrayBuffer(8 * 4)).fill(-1);
        copyTensorInto(t, out, 1);
        expect(Array.from(out)).toEqual([-1, 1, 2, 3, 4, 5, 6, -1]);
        copyTensorInto(t, out, 0, 3, 6);
        expect(Array.from(out)).toEqual([4, 5, 6, 3, 4, 5, 6, -1]);
        expect(() => copyTensorInto(t, out, 3)).toThrow(/elements 0…6 of 6 do not fit 8 values at offset 3/);
        const ints = tf.tensor1d([1], 'int32');
        expect(() => copyTensorInto(ints, out)).toThrow(/expected a float32 tensor; got int32/);
        tf.dispose([t, ints]);
      } finally {
        await tf.setBackend(previous);
      }
    });
  }
});
