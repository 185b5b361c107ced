import { describe, expect, it } from 'vitest';
import { guidedBounds } from '../../src/backend/helper-threads.js';

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
