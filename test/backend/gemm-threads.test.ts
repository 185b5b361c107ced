import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { gemmThreadStats, gemmThreadsUnavailable, kernelThreads, setKernelThreads, setSpeedFixes, stopGemmThreads, tf } from '../../plugins/index.js';
import { holdGemmHelpers, MIN_SPLIT_IN_PLACE_MACS, MIN_SPLIT_MACS, splitBlocks, type Block } from '../../src/backend/gemm-threads.js';
import { hostHeap } from '../../src/backend/host-kernel.js';
import { isSharedMemory } from '../../src/backend/shared-heap.js';
import { withKernelThreads } from '../../src/backend/kernel-threads.js';
import { gemm } from '../../src/nn/gemm.js';
import { expectNoLeak } from '../support/memory.js';
import { runNodeScript } from '../support/node-script.js';
import { useWasmBackend } from '../support/on-wasm.js';

// One matrix product split over helper threads (src/backend/gemm-threads.ts): the same bits as on
// one thread. About vaekit's host kernels: runs on wasm whatever VAEKIT_BACKEND says, and on cpu
// where a test says so.
useWasmBackend();

afterEach(async () => {
  setKernelThreads(null);
  setSpeedFixes(null);
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
});

afterAll(async () => {
  await stopGemmThreads();
});

/** Checks that `blocks` tile an m × n product's C (rows × column panels of 8) exactly once, with no empty block. */
function expectTiling(blocks: Block[], m: number, n: number): void {
  const panels = Math.ceil(n / 8);
  const cover = new Uint8Array(m * panels);
  for (const [i0, i1, q0, q1] of blocks) {
    expect(i1).toBeGreaterThan(i0);
    expect(q1).toBeGreaterThan(q0);
    expect(i0).toBeGreaterThanOrEqual(0);
    expect(q0).toBeGreaterThanOrEqual(0);
    expect(i1).toBeLessThanOrEqual(m);
    expect(q1).toBeLessThanOrEqual(panels);
    for (let i = i0; i < i1; i++) for (let q = q0; q < q1; q++) cover[i * panels + q]!++;
  }
  expect(cover.every((c) => c === 1)).toBe(true);
}

/** 'rows' if every block spans all column panels, 'panels' if every block spans all rows (both for a single block). */
function kind(blocks: Block[], m: number, n: number): 'rows' | 'panels' | 'both' | 'neither' {
  const allPanels = blocks.every(([, , q0, q1]) => q0 === 0 && q1 === Math.ceil(n / 8));
  const allRows = blocks.every(([i0, i1]) => i0 === 0 && i1 === m);
  return allPanels && allRows ? 'both' : allPanels ? 'rows' : allRows ? 'panels' : 'neither';
}

describe('splitBlocks', () => {
  const sizes = [1, 3, 4, 5, 7, 8, 9, 17, 31, 63, 64, 65, 100, 101, 127, 128, 129, 200, 203, 517, 784, 1010];
  const shares = (t: number) => [1 / t, 0.05, 0.2, 0.5, 0.8, 0.95];

  it('tiles C exactly once with no empty block, rows split at multiples of 4, for many (m, n, t, mainShare)', () => {
    let cases = 0;
    for (const m of sizes) {
      for (const n of sizes) {
        for (const t of [1, 2, 3, 4, 5, 8]) {
          for (const share of shares(t)) {
            const blocks = splitBlocks(m, n, t, share);
            expectTiling(blocks, m, n);
            expect(blocks.length).toBeLessThanOrEqual(t);
            if (t === 1) expect(blocks).toEqual([[0, m, 0, Math.ceil(n / 8)]]);
            const k = kind(blocks, m, n);
            expect(k).not.toBe('neither');
            // Every block but the last of a row split starts and ends on a multiple of 4.
            if (k === 'rows') for (const [i0, i1] of blocks) {
              expect(i0 % 4).toBe(0);
              if (i1 !== m) expect(i1 % 4).toBe(0);
            }
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(sizes.length * sizes.length * 6 * 6);
  });

  it('splits by column panels when C has no more rows than columns and at least 8 panels per thread, else by rows', () => {
    for (const m of sizes) {
      for (const n of sizes) {
        for (const t of [2, 3, 4]) {
          const blocks = splitBlocks(m, n, t);
          const panels = Math.ceil(n / 8);
          if (m <= n && panels >= 8 * t) {
            expect(kind(blocks, m, n)).toBe('panels');
            expect(blocks.length).toBe(t); // ≥ 8 panels each: never empty
          } else if (blocks.length > 1) expect(kind(blocks, m, n)).toBe('rows');
          else expect(blocks).toEqual([[0, m, 0, panels]]); // fewer than 5 rows: nothing to share
        }
      }
    }
    // The shapes the product tests below use: both kinds, and a shape that changes kind with t.
    expect(kind(splitBlocks(101, 203, 2), 101, 203)).toBe('panels');
    expect(kind(splitBlocks(101, 203, 3), 101, 203)).toBe('panels');
    expect(kind(splitBlocks(517, 70, 2), 517, 70)).toBe('rows');
    expect(kind(splitBlocks(64, 300, 3), 64, 300)).toBe('panels');
    expect(kind(splitBlocks(130, 130, 2), 130, 130)).toBe('panels'); // 17 panels ≥ 16
    expect(kind(splitBlocks(130, 130, 3), 130, 130)).toBe('rows'); // 17 panels < 24
  });

  it('gives this thread (the first block) about mainShare of the work and the helpers equal parts of the rest', () => {
    // Panels: 100 rows × 128 panels over 3 threads, this thread 0.5 → 64 panels, then 32 and 32.
    expect(splitBlocks(100, 1024, 3, 0.5)).toEqual([[0, 100, 0, 64], [0, 100, 64, 96], [0, 100, 96, 128]]);
    // Rows: 400 rows (100 quads) × 2 panels over 2 threads, this thread 0.25 → 100 rows, then 300.
    expect(splitBlocks(400, 16, 2, 0.25)).toEqual([[0, 100, 0, 2], [100, 400, 0, 2]]);
    // Equal shares by default; a ragged last block.
    expect(splitBlocks(517, 70, 2)).toEqual([[0, 260, 0, 9], [260, 517, 0, 9]]);
  });
});

/** Values of a seeded normal tensor (the same on every backend). */
function normal(shape: [number, number], seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
}

/** gemm of the given operand values on the current backend with `threads` kernel threads; C's values. */
function product(av: Float32Array, as: [number, number], bv: Float32Array, bs: [number, number], ta: boolean, tb: boolean, threads: number): Float32Array {
  setKernelThreads(threads);
  try {
    return tf.tidy(() => gemm(tf.tensor2d(av, as), tf.tensor2d(bv, bs), ta, tb).dataSync() as Float32Array);
  } finally {
    setKernelThreads(null);
  }
}

/** Exact equality of two products (counting mismatches first: a diff of long arrays is slow to print). */
function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  let mismatches = 0;
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) mismatches++;
  expect(mismatches, `${what}: elements that differ`).toBe(0);
  expect(Array.from(got)).toEqual(Array.from(want));
}

const splitShapes: [number, number, number][] = [
  [101, 300, 203], // panel split for 2 and 3 threads; M and N ragged
  [517, 64, 70], // row split; M and N ragged (2.3 M multiply-adds, just above MIN_SPLIT_MACS)
  [64, 900, 300], // panel split; N ragged
  [130, 150, 130], // panel split for 2 threads, row split for 3; M and N ragged
];
const flags = [[false, false], [true, false], [false, true], [true, true]] as const;
const op = (t: boolean, x: string) => (t ? `${x}ᵀ` : x);

describe('a product split over kernel threads', () => {
  it('splits only products of at least MIN_SPLIT_MACS multiply-adds', () => {
    for (const [m, k, n] of splitShapes) expect(m * k * n).toBeGreaterThanOrEqual(MIN_SPLIT_MACS);
  });

  for (const backend of ['wasm', 'cpu']) {
    for (const [m, k, n] of splitShapes) {
      it(`gives the one-thread bits on ${backend} for [M, K, N] = [${m}, ${k}, ${n}], 2 and 3 threads, every transpose`, async () => {
        await tf.setBackend(backend);
        for (const [ta, tb] of flags) {
          const as: [number, number] = ta ? [k, m] : [m, k];
          const bs: [number, number] = tb ? [n, k] : [k, n];
          const seed = m + 3 * k + 7 * n + (ta ? 1 : 0) + (tb ? 2 : 0);
          const [av, bv] = [normal(as, seed), normal(bs, seed + 1)];
          const before = gemmThreadStats().splitProducts;
          const one = product(av, as, bv, bs, ta, tb, 1);
          expect(gemmThreadStats().splitProducts).toBe(before);
          for (const threads of [2, 3]) {
            const start = gemmThreadStats().splitProducts;
            // Twice: the second call splits by this shape's measured helper slowness (another mainShare).
            for (let rep = 0; rep < 2; rep++) {
              const got = product(av, as, bv, bs, ta, tb, threads);
              expectSameBits(got, one, `${op(ta, 'a')}·${op(tb, 'b')} on ${threads} threads (call ${rep + 1})`);
            }
            expect(gemmThreadsUnavailable()).toBeUndefined();
            expect(gemmThreadStats().splitProducts - start).toBe(2);
            expect(gemmThreadStats().helpers).toBeGreaterThanOrEqual(threads - 1);
          }
        }
        expect(tf.getBackend()).toBe(backend);
      });
    }
  }

  // On wasm tfjs's heap is shared in Node (src/backend/shared-heap.ts): products split in place,
  // from MIN_SPLIT_IN_PLACE_MACS, and a layer's two gradient products are each split. On cpu the
  // helpers work on copies: products split from MIN_SPLIT_MACS, and with exactly two threads dB
  // runs whole on the helper beside dA (a side product).
  it('runs on a shared tfjs-wasm heap in Node, and on cpu without one', async () => {
    expect(isSharedMemory(hostHeap())).toBe(true);
    await tf.setBackend('cpu');
    expect(hostHeap()).toBeUndefined();
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    const inPlace = backend === 'wasm';
    it(`gives the one-thread gradients (tf.grads through gemm) on 2 threads, every transpose, on ${backend}`, async () => {
      await tf.setBackend(backend);
      const [m, k, n] = [101, 300, 203];
      for (const [ta, tb] of flags) {
        const as: [number, number] = ta ? [k, m] : [m, k];
        const bs: [number, number] = tb ? [n, k] : [k, n];
        const [av, bv, wv] = [normal(as, 5), normal(bs, 6), normal([m, n], 7)];
        const grads = (threads: number) =>
          withKernelThreads(threads, () =>
            tf.tidy(() => {
              const w = tf.tensor2d(wv, [m, n]);
              const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(gemm(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), w));
              return tf.grads(f)([tf.tensor2d(av, as), tf.tensor2d(bv, bs)]).map((g) => g.dataSync() as Float32Array);
            }),
          );
        const before = gemmThreadStats();
        const one = grads(1);
        expect(gemmThreadStats().splitProducts).toBe(before.splitProducts);
        const two = grads(2);
        // Two threads: the forward product split; in place dA and dB split too, else dA computed here beside dB on the helper.
        expect(gemmThreadStats().splitProducts - before.splitProducts).toBe(inPlace ? 3 : 1);
        expect(gemmThreadStats().sideProducts - before.sideProducts).toBe(inPlace ? 0 : 1);
        const three = grads(3);
        // Three threads: no side-by-side pair; all three products split.
        expect(gemmThreadStats().splitProducts - before.splitProducts).toBe(inPlace ? 6 : 4);
        expect(gemmThreadStats().sideProducts - before.sideProducts).toBe(inPlace ? 0 : 1);
        for (const [g, threads] of [[two, 2], [three, 3]] as const) {
          expectSameBits(g[0]!, one[0]!, `dA of ${op(ta, 'a')}·${op(tb, 'b')}, ${threads} threads`);
          expectSameBits(g[1]!, one[1]!, `dB of ${op(ta, 'a')}·${op(tb, 'b')}, ${threads} threads`);
        }
      }
    });

    it(`gives the one-thread gradient when only one operand needs it${inPlace ? '' : ', and drops a side product nobody collects'}, on ${backend}`, async () => {
      await tf.setBackend(backend);
      const [m, k, n] = [100, 784, 200];
      const [av, bv, wv] = [normal([m, k], 11), normal([k, n], 12), normal([m, n], 13)];
      // Gradient of one operand only: for b, the tape asks for dB alone (split); for a, it asks for
      // dA — on cpu that starts dB beside it on the helper, and dB is never asked for (it is dropped).
      const grad = (threads: number, of: 'a' | 'b') =>
        withKernelThreads(threads, () =>
          tf.tidy(() => {
            const [a, b, w] = [tf.tensor2d(av, [m, k]), tf.tensor2d(bv, [k, n]), tf.tensor2d(wv, [m, n])];
            const f = (x: tf.Tensor) => tf.sum(tf.mul(of === 'a' ? gemm(x as tf.Tensor2D, b) : gemm(a, x as tf.Tensor2D), w));
            return tf.grad(f)(of === 'a' ? a : b).dataSync() as Float32Array;
          }),
        );
      for (const of of ['a', 'b'] as const) {
        const before = gemmThreadStats();
        const two = grad(2, of);
        expect(gemmThreadStats().sideProducts - before.sideProducts, `side products for d${of}`).toBe(of === 'a' && !inPlace ? 1 : 0);
        expectSameBits(two, grad(1, of), `d${of} alone`);
      }
      // After a dropped side product, products (split or side by side) still give the one-thread bits.
      expectSameBits(product(av, [m, k], bv, [k, n], false, false, 2), product(av, [m, k], bv, [k, n], false, false, 1), 'a product after a dropped side job');
    });

    it(`computes here the blocks a helper has not claimed (a descheduled helper), with the same bits, and the helper carries on after, on ${backend}`, async () => {
      await tf.setBackend(backend);
      const [m, k, n] = [100, 784, 200];
      const [av, bv, wv] = [normal([m, k], 21), normal([k, n], 22), normal([m, n], 23)];
      const grads = (threads: number) =>
        withKernelThreads(threads, () =>
          tf.tidy(() => {
            const w = tf.tensor2d(wv, [m, n]);
            const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(gemm(x as tf.Tensor2D, y as tf.Tensor2D), w));
            return tf.grads(f)([tf.tensor2d(av, [m, k]), tf.tensor2d(bv, [k, n])]).map((g) => g.dataSync() as Float32Array);
          }),
        );
      const one = grads(1);
      const fwdOne = product(av, [m, k], bv, [k, n], false, false, 1);
      grads(2); // the helper is running
      const before = gemmThreadStats();
      holdGemmHelpers(true);
      let held: Float32Array[];
      let fwdHeld: Float32Array;
      try {
        fwdHeld = product(av, [m, k], bv, [k, n], false, false, 2);
        held = grads(2);
      } finally {
        holdGemmHelpers(false);
      }
      const after = gemmThreadStats();
      // The split forward products (2) and dA, dB (in place: split in chunks of panels, every chunk
      // computed here; else dB side by side, and every helper block taken back here).
      expect(after.splitProducts - before.splitProducts).toBe(inPlace ? 4 : 2);
      expect(after.sideProducts - before.sideProducts).toBe(inPlace ? 0 : 1);
      expect(after.takenBack - before.takenBack).toBe(inPlace ? 0 : 3);
      expect(after.chunksHelped - before.chunksHelped).toBe(0);
      if (inPlace) expect(after.chunksHere - before.chunksHere).toBeGreaterThanOrEqual(4 * 4);
      expectSameBits(fwdHeld, fwdOne, 'a split product computed all here');
      expectSameBits(held[0]!, one[0]!, 'dA with the helper held');
      expectSameBits(held[1]!, one[1]!, 'dB taken back from the held helper');
      // Released, the helper computes blocks (chunks) again. A call's hand-offs (2: the split
      // forward, the side-by-side dB) may still both be taken back, or every chunk taken here, when
      // the helper is slow to wake or is descheduled on a shared machine; a helper left stuck would
      // lose every one of them.
      let helped = false;
      for (let attempt = 0; attempt < 20 && !helped; attempt++) {
        const start = gemmThreadStats();
        const again = grads(2);
        expectSameBits(again[1]!, one[1]!, 'dB after the helper is released');
        const now = gemmThreadStats();
        helped = inPlace ? now.chunksHelped > start.chunksHelped : now.takenBack - start.takenBack < 2;
      }
      expect(helped, 'the released helper computed a block in one of 20 calls').toBe(true);
    });

    it(`does not split products below ${inPlace ? 'MIN_SPLIT_IN_PLACE_MACS' : 'MIN_SPLIT_MACS'}, on ${backend}`, async () => {
      await tf.setBackend(backend);
      const limit = inPlace ? MIN_SPLIT_IN_PLACE_MACS : MIN_SPLIT_MACS;
      // All just below the limit but for the small one; each would be split by rows or by panels.
      const shapes = inPlace ? [[100, 50, 104], [517, 63, 16], [8, 8, 8], [4, 512, 255]] : [[100, 200, 100], [517, 63, 64], [8, 8, 8], [4, 512, 1020]];
      for (const [m, k, n] of shapes as [number, number, number][]) {
        expect(m * k * n).toBeLessThan(limit);
        const [av, bv] = [normal([m, k], 1), normal([k, n], 2)];
        const before = gemmThreadStats().splitProducts;
        const one = product(av, [m, k], bv, [k, n], false, false, 1);
        const four = product(av, [m, k], bv, [k, n], false, false, 4);
        expect(gemmThreadStats().splitProducts).toBe(before);
        expectSameBits(four, one, `[${m}, ${k}, ${n}]`);
      }
      // And splits one just at the limit.
      const [m, k, n] = inPlace ? [128, 64, 64] : [128, 128, 128];
      expect(m * k * n).toBe(limit);
      const before = gemmThreadStats().splitProducts;
      product(normal([m, k], 3), [m, k], normal([k, n], 4), [k, n], false, false, 2);
      expect(gemmThreadStats().splitProducts - before).toBe(1);
    });
  }

  it('leaks no tensors over repeated split products, forward and backward', async () => {
    const [av, bv] = [normal([101, 300], 3), normal([300, 203], 4)];
    const [a, b] = [tf.tensor2d(av, [101, 300]), tf.variable(tf.tensor2d(bv, [300, 203]))];
    setKernelThreads(2);
    const before = gemmThreadStats();
    await expectNoLeak(() => tf.dispose(gemm(a, b)), 5);
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(gemm(a, b as tf.Variable as unknown as tf.Tensor2D))) as tf.Scalar, [b]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    // Each gradient step: the forward product split, dB (dA is not asked for) split.
    expect(gemmThreadStats().splitProducts - before.splitProducts).toBeGreaterThanOrEqual(7 + 2 * 5);
    tf.dispose([a, b]);
  });

  it('restarts its helpers after stopGemmThreads, with the same bits', async () => {
    const [av, bv] = [normal([64, 900], 8), normal([900, 300], 9)];
    const one = product(av, [64, 900], bv, [900, 300], false, false, 1);
    expectSameBits(product(av, [64, 900], bv, [900, 300], false, false, 3), one, 'before the stop');
    expect(gemmThreadStats().helpers).toBeGreaterThanOrEqual(2);
    await stopGemmThreads();
    expect(gemmThreadStats().helpers).toBe(0);
    const before = gemmThreadStats().splitProducts;
    expectSameBits(product(av, [64, 900], bv, [900, 300], false, false, 3), one, 'after the stop');
    expect(gemmThreadStats().splitProducts - before).toBe(1);
    expect(gemmThreadStats().helpers).toBe(2);
  });
});

describe('kernel thread count', () => {
  /** Runs `fn` with VAEKIT_KERNEL_THREADS set to `value` (undefined: unset), restoring it after. */
  function withEnv<T>(value: string | undefined, fn: () => T): T {
    const before = process.env.VAEKIT_KERNEL_THREADS;
    if (value === undefined) delete process.env.VAEKIT_KERNEL_THREADS;
    else process.env.VAEKIT_KERNEL_THREADS = value;
    try {
      return fn();
    } finally {
      if (before === undefined) delete process.env.VAEKIT_KERNEL_THREADS;
      else process.env.VAEKIT_KERNEL_THREADS = before;
    }
  }

  it('rejects a setting that is not a positive integer or "auto", naming it', () => {
    for (const [bad, shown] of [[0, '0'], [1.5, '1.5'], [-1, '-1'], ['two', '"two"']] as const) {
      expect(() => setKernelThreads(bad as number)).toThrow(`kernel threads: expected a positive integer or "auto"; got ${shown}`);
    }
    for (const bad of [Number.NaN, Infinity]) expect(() => setKernelThreads(bad)).toThrow(`kernel threads: expected a positive integer or "auto"; got ${String(bad)}`);
    // A rejected setting leaves the previous one.
    setKernelThreads(3);
    expect(() => setKernelThreads(0)).toThrow();
    expect(kernelThreads()).toBe(3);
  });

  it('reads VAEKIT_KERNEL_THREADS when not set in code, and throws naming the variable and a bad value', () => {
    withEnv('abc', () => {
      expect(() => kernelThreads()).toThrow('VAEKIT_KERNEL_THREADS: expected a positive integer or "auto"; got "abc"');
      setKernelThreads(2); // a setting in code wins over the environment
      expect(kernelThreads()).toBe(2);
    });
    setKernelThreads(null);
    for (const bad of ['0', '1.5', '-2', 'two']) withEnv(bad, () => expect(() => kernelThreads()).toThrow(`VAEKIT_KERNEL_THREADS: expected a positive integer or "auto"; got "${bad}"`));
    withEnv('3', () => expect(kernelThreads()).toBe(3));
    // A product of any size reads the setting, so a bad variable fails at the first product of a run, not at the first large one.
    const a = tf.ones([2, 3]) as tf.Tensor2D;
    try {
      withEnv('abc', () => expect(() => gemm(a, a, false, true)).toThrow('VAEKIT_KERNEL_THREADS: expected a positive integer or "auto"; got "abc"'));
    } finally {
      a.dispose();
    }
    withEnv('', () => expect(kernelThreads()).toBe(withEnv('auto', () => kernelThreads())));
  });

  it('is 1 with the speed fixes off, whatever the setting', () => {
    setKernelThreads(3);
    setSpeedFixes(false);
    expect(kernelThreads()).toBe(1);
    withEnv('4', () => {
      setKernelThreads(null);
      expect(kernelThreads()).toBe(1);
    });
  });

  it('withKernelThreads sets the count for the call only, also when it throws', () => {
    setKernelThreads(2);
    expect(withKernelThreads(3, () => kernelThreads())).toBe(3);
    expect(kernelThreads()).toBe(2);
    expect(() => withKernelThreads(4, () => { throw new Error('inside'); })).toThrow('inside');
    expect(kernelThreads()).toBe(2);
  });

  it("'auto' is 1 in this vitest worker: a forked child process (process.send is set), by the documented rule", () => {
    // vitest's 'forks' pool runs test files in child_process.fork children: a main thread with an IPC channel.
    expect(isMainThread).toBe(true);
    expect(typeof process.send).toBe('function');
    withEnv(undefined, () => {
      expect(kernelThreads()).toBe(1);
      setKernelThreads('auto');
      expect(kernelThreads()).toBe(1);
    });
  });

  it("'auto' is min(4, cores) in a Node main thread with no IPC channel, and 1 in a forked one and in a worker thread", async () => {
    const mod = new URL('../../src/backend/kernel-threads.ts', import.meta.url).href;
    const inWorker = `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(mod)}, ${JSON.stringify(mod)})).then(async (m) => (await import('node:worker_threads')).parentPort.postMessage(m.kernelThreads()))`;
    const script = `
      const { Worker } = await import('node:worker_threads');
      const { kernelThreads } = await import(${JSON.stringify(mod)});
      const main = kernelThreads();
      const worker = await new Promise((resolve, reject) => {
        const w = new Worker(${JSON.stringify(inWorker)}, { eval: true });
        w.once('message', resolve);
        w.once('error', reject);
      });
      console.log(JSON.stringify({ main, worker, send: typeof process.send }));
      process.disconnect?.();
    `;
    const run = (ipc: boolean) => {
      const env: Record<string, string | undefined> = { ...process.env };
      delete env.VAEKIT_KERNEL_THREADS;
      return runNodeScript<{ main: number; worker: number; send: string }>(script, env, { ipc });
    };
    const cores = availableParallelism();
    expect(await run(false)).toEqual({ main: Math.min(4, cores), worker: 1, send: 'undefined' });
    expect(await run(true)).toEqual({ main: 1, worker: 1, send: 'function' });
  }, 60_000);
});
