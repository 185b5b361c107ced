import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';

describe('Random.normal (the batched draw)', () => {
  it('draws the values of as many gaussian() calls, in order, for odd and even sizes with a spare pending between draws, and ends in the same state', () => {
    const batched = new Random(21);
    const oneByOne = new Random(21);
    for (const shape of [[3], [2, 2], [1], [0], [1, 5, 7], [4], [100, 1, 50], [1]]) {
      const t = batched.normal(shape);
      const got = Array.from(t.dataSync());
      t.dispose();
      const want = got.map(() => Math.fround(oneByOne.gaussian()));
      expect(got).toEqual(want);
      expect(batched.getState()).toEqual(oneByOne.getState());
    }
    // Draws do not depend on how a caller chunks them (the streamed estimates rely on it).
    const [a, b] = [new Random(4), new Random(4)];
    const whole = Array.from(a.normal([7, 3]).dataSync());
    const parts = [b.normal([2, 3]), b.normal([5, 3])].flatMap((p) => Array.from(p.dataSync()));
    expect(parts).toEqual(whole);
  });
});
