import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';

describe('Random.shareRows (rows of each draw split between threads)', () => {
  it('gives each share its rows of the single-thread draws and leaves the stream where one thread would', () => {
    const whole = new Random(9);
    whole.gaussian(); // an odd count: the stream starts with a spare normal pending
    const state = whole.getState();
    const full = [whole.normal([3, 5, 2]), whole.normal([5, 4])];
    const values = full.map((t) => Array.from(t.dataSync()));
    const shares = [
      { start: 0, end: 2, rows: 5 },
      { start: 2, end: 5, rows: 5 },
    ];
    for (const share of shares) {
      const r = new Random();
      r.setState(state);
      r.shareRows(share);
      const n = share.end - share.start;
      const parts = [r.normal([3, n, 2]), r.normal([n, 4])];
      r.shareRows(null);
      // [K, B, D]: rows start…end−1 of every sample k; [B, D]: rows start…end−1.
      const want3 = [0, 1, 2].flatMap((k) => values[0]!.slice(k * 10 + share.start * 2, k * 10 + share.end * 2));
      expect(Array.from(parts[0]!.dataSync())).toEqual(want3);
      expect(Array.from(parts[1]!.dataSync())).toEqual(values[1]!.slice(share.start * 4, share.end * 4));
      expect(r.getState()).toEqual(whole.getState());
      parts.forEach((t) => t.dispose());
    }
    full.forEach((t) => t.dispose());
  });

  it('refuses draws it cannot split, and shapes whose batch axis does not match the share', () => {
    const r = new Random(1);
    r.shareRows({ start: 1, end: 3, rows: 4 });
    expect(() => r.uniform()).toThrow(/Random\.uniform: not available while rows are shared/);
    expect(() => r.fillNormal(new Float32Array(2))).toThrow(/Random\.fillNormal/);
    expect(() => r.permutation(3)).toThrow(/Random\.permutation/);
    expect(() => r.normal([2, 3, 5])).toThrow(/axis −2 of the shape must be 2; got \[2, 3, 5\]/);
    expect(() => r.normal([7])).toThrow(/axis −2/);
    r.shareRows(null);
    expect(r.uniform()).toBeGreaterThanOrEqual(0);
    expect(() => r.shareRows({ start: 2, end: 2, rows: 4 })).toThrow(/0 ≤ start < end ≤ rows; got \{"start":2,"end":2,"rows":4\}/);
  });
});
