import { describe, expect, it } from 'vitest';
import { tf } from '../../plugins/index.js';
import { hostHeap } from '../../src/backend/host-kernel.js';
import { inPlaceHeap, isSharedMemory, setInPlaceKernels } from '../../src/backend/shared-heap.js';
import { MAX_SHARED_PAGES, withSharedMemory } from '../../src/backend/wasm-binary.js';
import { runNodeScript } from '../support/node-script.js';
import { useWasmBackend } from '../support/on-wasm.js';

// tfjs-wasm's heap as a shared memory (src/backend/shared-heap.ts) and the binary edit behind it
// (src/backend/wasm-binary.ts). The kernels on it: test/backend/gemm-threads.test.ts,
// test/nn/adam.test.ts.
useWasmBackend();

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const name = (s: string) => [s.length, ...Buffer.from(s)];
const section = (id: number, body: number[]) => [id, body.length, ...body];

type Api = {
  Module: { new (b: Uint8Array): object; imports(m: object): { module: string; name: string; kind: string }[] };
  Instance: new (m: object, i?: object) => { exports: Record<string, { buffer: ArrayBufferLike }> };
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => { buffer: ArrayBufferLike };
};
const WA = (globalThis as unknown as { WebAssembly: Api }).WebAssembly;

/** (memory <limits>) (export "m" (memory 0)) */
const definedMemory = (limits: number[]) => new Uint8Array([...HEADER, ...section(5, [1, ...limits]), ...section(7, [1, ...name('m'), 2, 0])]);

/** Imports a table, a global and then the memory (import kinds 1, 3, 2: the edit must skip the first two). */
const importedMemory = (limits: number[]) =>
  new Uint8Array([...HEADER, ...section(2, [3, ...name('e'), ...name('t'), 1, 0x70, 0, 1, ...name('e'), ...name('g'), 3, 0x7f, 0, ...name('e'), ...name('m'), 2, ...limits])]);

describe('withSharedMemory', () => {
  it('declares a memory the module defines shared, with the 4 GiB maximum when it had none, and the engine makes it a SharedArrayBuffer', () => {
    const plain = definedMemory([0x00, 1]);
    expect(new WA.Instance(new WA.Module(plain)).exports.m!.buffer).toBeInstanceOf(ArrayBuffer);
    const shared = withSharedMemory(plain)!;
    expect(Array.from(shared.subarray(8, 8 + 8))).toEqual([5, 6, 1, 0x03, 1, 0x80, 0x80, 0x04]); // flag 3, min 1, max 65536 (LEB128)
    expect(MAX_SHARED_PAGES).toBe(65536);
    const memory = new WA.Instance(new WA.Module(shared)).exports.m!;
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(memory.buffer.byteLength).toBe(65536);
  });

  it('keeps a maximum the module declares, and returns a module already shared unchanged', () => {
    const shared = withSharedMemory(definedMemory([0x01, 2, 5]))!;
    expect(Array.from(shared.subarray(8, 8 + 6))).toEqual([5, 4, 1, 0x03, 2, 5]);
    expect(withSharedMemory(shared)).toBe(shared);
  });

  it('declares an imported memory shared, past imports of other kinds: it then links to a shared memory and refuses a plain one', () => {
    const plain = importedMemory([0x00, 1]);
    const shared = withSharedMemory(plain)!;
    expect(WA.Module.imports(new WA.Module(shared)).map((i) => `${i.name}:${i.kind}`)).toEqual(['t:table', 'g:global', 'm:memory']);
    const imports = (memory: object) => ({ e: { t: new (globalThis as unknown as { WebAssembly: { Table: new (d: object) => object } }).WebAssembly.Table({ initial: 1, element: 'anyfunc' }), g: 0, m: memory } });
    const module = new WA.Module(shared);
    expect(() => new WA.Instance(module, imports(new WA.Memory({ initial: 1, maximum: 100, shared: true })))).not.toThrow();
    expect(() => new WA.Instance(module, imports(new WA.Memory({ initial: 1, maximum: 100 })))).toThrow(/shared/);
    // The original links to the plain one only.
    expect(() => new WA.Instance(new WA.Module(plain), imports(new WA.Memory({ initial: 1 })))).not.toThrow();
  });

  it('returns undefined for a module without memory and throws on bytes that are not a module', () => {
    expect(withSharedMemory(new Uint8Array(HEADER))).toBeUndefined();
    expect(() => withSharedMemory(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/not a WebAssembly 1.0 module/);
    expect(() => withSharedMemory(new Uint8Array([...HEADER, 5, 9, 1]))).toThrow(/truncated/);
  });
});

describe('the shared tfjs-wasm heap', () => {
  it('is what tfjs-wasm runs on in Node: its tensors are views of a SharedArrayBuffer, and ops work across a heap growth', async () => {
    const heap = hostHeap()!;
    expect(isSharedMemory(heap)).toBe(true);
    expect(inPlaceHeap(heap)).toBe(true);
    const before = heap.buffer.byteLength;
    const big = tf.fill([64, 1024, 1024], 1); // 256 MiB: the heap grows
    expect(heap.buffer.byteLength).toBeGreaterThan(before);
    expect(heap.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(await tf.slice(big, [63, 1023, 1020], [1, 1, 4]).data())).toEqual([1, 1, 1, 1]);
    big.dispose();
    expect(Array.from(await tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).data())).toEqual([19, 22, 43, 50]);
  });

  it('setInPlaceKernels(false) makes the kernels treat it as not shared, until set back', () => {
    setInPlaceKernels(false);
    try {
      expect(inPlaceHeap(hostHeap())).toBe(false);
    } finally {
      setInPlaceKernels(true);
    }
    expect(inPlaceHeap(hostHeap())).toBe(true);
  });

  it('is a plain heap under VAEKIT_SHARED_HEAP=0 (and shared without it) in a fresh process', async () => {
    const mod = new URL('../../src/backend/host-kernel.ts', import.meta.url).href;
    const select = new URL('../../src/backend/select-backend.ts', import.meta.url).href;
    const script = `
      const { selectBackend } = await import(${JSON.stringify(select)});
      const { hostHeap } = await import(${JSON.stringify(mod)});
      await selectBackend('wasm', { quiet: true });
      console.log(JSON.stringify({ shared: hostHeap().buffer instanceof SharedArrayBuffer }));
    `;
    const run = (value: string | undefined) => {
      const env: Record<string, string | undefined> = { ...process.env, VAEKIT_SHARED_HEAP: value };
      if (value === undefined) delete env.VAEKIT_SHARED_HEAP;
      delete env.VAEKIT_BACKEND;
      return runNodeScript<{ shared: boolean }>(script, env);
    };
    expect(await run('0')).toEqual({ shared: false });
    expect(await run(undefined)).toEqual({ shared: true });
  }, 60_000);
});
