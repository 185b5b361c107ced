import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../plugins/index.js';
import { ADAM_WASM_BASE64 } from '../../src/backend/adam-wasm.js';
import { decodeBase64 } from '../../src/backend/base64.js';
import { guidedBounds, helperKernel, helperPool, runChunks, stopHelpers } from '../../src/backend/helper-threads.js';
import { hostHeap } from '../../src/backend/host-kernel.js';
import { HostWasm } from '../../src/backend/host-wasm.js';
import { isSharedMemory } from '../../src/backend/shared-heap.js';
import { useWasmBackend } from '../support/on-wasm.js';

// The helper pool's chunk schedule. The pool running kernels: test/backend/gemm-threads.test.ts
// (products, with the helpers held), test/nn/adam.test.ts (Adam in chunks).
describe('guidedBounds', () => {
  it('tiles [start, end) in order with chunks that start at multiples of the quantum and shrink to the minimum, at most 64', () => {
    for (const [start, end, threads, quantum, min] of [
      [0, 25, 2, 1, 1],
      [0, 98, 3, 1, 1],
      [0, 202_000, 2, 4, 1024],
      [0, 630, 2, 4, 1024],
      [8, 9, 2, 1, 1],
      [0, 10_000_000, 4, 4, 16],
    ] as const) {
      const b = guidedBounds(start, end, threads, quantum, min);
      expect(b[0]).toBe(start);
      expect(b.at(-1)).toBe(end);
      expect(b.length - 1).toBeLessThanOrEqual(64);
      const sizes = b.slice(1).map((x, i) => x - b[i]!);
      expect(sizes.every((s) => s > 0)).toBe(true);
      for (const x of b.slice(0, -1)) expect((x - start) % quantum).toBe(0);
      // Non-increasing but for the last (cut at the end), and the first about 1/(2·threads) of the range.
      for (let i = 1; i < sizes.length - 1; i++) expect(sizes[i]!).toBeLessThanOrEqual(sizes[i - 1]!);
      if (end - start >= 4 * threads * Math.max(quantum, min)) {
        expect(sizes[0]! / (end - start)).toBeCloseTo(1 / (2 * threads), 1);
        expect(sizes.length).toBeGreaterThanOrEqual(2 * threads);
      }
    }
    expect(guidedBounds(0, 25, 2)).toEqual([0, 7, 12, 16, 19, 21, 22, 23, 24, 25]);
  });
});

describe('a job run in chunks over the helpers', () => {
  useWasmBackend();
  afterAll(async () => {
    await stopHelpers();
  });

  it('rethrows a chunk that failed here or on a helper once every chunk is done, and the pool runs the next job', () => {
    const memory = hostHeap()!;
    expect(isSharedMemory(memory)).toBe(true);
    const bytes = decodeBase64(ADAM_WASM_BASE64);
    const kernel = helperKernel(bytes, 'adamRange');
    const host = new HostWasm(bytes, {});
    const here = (a: readonly number[]) => host.call('adamRange', memory, a);
    const numbers = [0.9, 0.1, 0.999, 0.001, -0.01, 1e-7];
    // Pointers past the end of the heap: every chunk traps, wherever it runs.
    const beyond = memory.buffer.byteLength + 65536;
    const bad = [...Array(8).fill(beyond), 0, 0, ...numbers];
    const bounds = guidedBounds(0, 4096, 2, 4, 256);
    const before = helperPool().chunksHere + helperPool().chunksHelped;
    expect(() => runChunks(memory, 2, kernel, bad, 8, bounds, here, 'test kernel')).toThrow(/out of bounds|helper thread failed/);
    expect(helperPool().chunksHere + helperPool().chunksHelped - before).toBe(bounds.length - 1);
    // The next job runs: Adam on real arrays, in chunks, gives one call's values.
    const n = 4096;
    const [x, m, v, g] = [1, 2, 3, 4].map((s) => tf.randomUniform([n], -1, 1, 'float32', s));
    const run = (split: boolean) =>
      tf.tidy(() => {
        const outs = [0, 1, 2].map(() => tf.zeros([n]).add(0));
        const views = [x!, m!, v!, g!, ...outs].map((t) => (tf.backend() as unknown as { typedArrayFromHeap(t: tf.TensorInfo): Float32Array }).typedArrayFromHeap(t as unknown as tf.TensorInfo));
        const args = [...views.map((a) => a.byteOffset), 0, 0, n, ...numbers];
        if (split) expect(runChunks(memory, 2, kernel, args, 8, bounds, here, 'test kernel')).toBe(true);
        else here(args.map((a, i) => (i === 8 ? 0 : i === 9 ? n : a)));
        return outs.map((o) => Array.from(o.dataSync()));
      });
    expect(run(true)).toEqual(run(false));
    tf.dispose([x!, m!, v!, g!]);
  });
});
