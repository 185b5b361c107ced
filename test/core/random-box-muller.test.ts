import { afterEach, describe, expect, it } from 'vitest';
import { boxMullerKernel, useBoxMullerKernel } from '../../src/backend/box-muller.js';
import { Random } from '../../src/core/random.js';

// Random's normals from the WebAssembly kernel (src/backend/box-muller.ts) against its
// JavaScript loop and against the Box–Muller formula through Math.log, Math.cos and Math.sin.
afterEach(() => useBoxMullerKernel(true));

/** The float32 pair JavaScript's formula gives for the uniforms ku·2⁻³² and kv·2⁻³². */
function mathPair(ku: number, kv: number): [number, number] {
  const u = ku / 4294967296;
  const v = kv / 4294967296;
  const r = Math.sqrt(-2 * Math.log(u));
  return [Math.fround(r * Math.cos(2 * Math.PI * v)), Math.fround(r * Math.sin(2 * Math.PI * v))];
}

describe('Random.normal from the WebAssembly Box–Muller kernel', () => {
  it('loads here, and gives the JavaScript loop’s values and states bit for bit over 2 million draws, with a spare pending between draws', () => {
    const kernel = boxMullerKernel();
    expect(kernel).not.toBeNull();
    const slowBefore = kernel!.slowPairs();
    for (const seed of [1, 2, 99, 123456789]) {
      const fast = new Random(seed);
      const slow = new Random(seed);
      for (const shape of [[250001], [3], [2, 2], [1, 249999], [1]]) {
        useBoxMullerKernel(true);
        const a = fast.normal(shape);
        useBoxMullerKernel(false);
        const b = slow.normal(shape);
        const [x, y] = [a.dataSync(), b.dataSync()];
        let differ = 0;
        for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) differ++;
        expect(differ, `seed ${seed}, shape [${shape}]`).toBe(0);
        expect(fast.getState()).toEqual(slow.getState());
        a.dispose();
        b.dispose();
      }
    }
    // Both paths ran: ≈ 1 pair in 800 lies near an axis (|2πv − kπ/2| < 2⁻¹⁰) and goes through the Math functions.
    const slowPairs = kernel!.slowPairs() - slowBefore;
    expect(slowPairs).toBeGreaterThan(500);
    expect(slowPairs).toBeLessThan(2500);
  });

  it('gives the formula’s float32 pair at the edges: the smallest and largest uniforms, angles on and next to each axis', () => {
    const kernel = boxMullerKernel()!;
    const axis = [0, 2 ** 30, 2 ** 31, 3 * 2 ** 30];
    const kvs = [...axis.flatMap((a) => [a, a + 1, a + 2 ** 20, a + 2 ** 23 - 1, a + 2 ** 23, a + 2 ** 23 + 1].concat(a > 0 ? [a - 1, a - 2 ** 20, a - 2 ** 23] : [])), 2 ** 32 - 1, 2 ** 29, 5 * 2 ** 29];
    const kus = [1, 2, 3, 2 ** 16, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 3037000499, 2 ** 32 - 2, 2 ** 32 - 1];
    const slowBefore = kernel.slowPairs();
    for (const ku of kus) for (const kv of kvs) expect(kernel.pair(ku, kv), `ku ${ku}, kv ${kv}`).toEqual(mathPair(ku, kv));
    // Within 2⁻¹⁰ rad of an axis (kv within 2²²/2π ≈ 667,544 of one) the exact path ran: kv = 0, 1 and
    // 2³² − 1 (next to 2π), and a − 1, a, a + 1 for the three other axes, 12 per ku; 2²⁰ and more away it did not.
    expect(kernel.slowPairs() - slowBefore).toBe(kus.length * 12);
  });
});
