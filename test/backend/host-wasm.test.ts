import { describe, expect, it } from 'vitest';
import { HostWasm } from '../../plugins/index.js';
import { GEMM_WASM_BASE64 } from '../../src/backend/gemm-wasm.js';

// HostWasm on its own, with the core's matrix product as the module (gemm(a, b, c, work, m, k, n, transA, transB);
// its work area holds op(b) packed in panels of 8 columns: K·⌈N/8⌉·8 floats).
const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly;
const module = () => new HostWasm(Buffer.from(GEMM_WASM_BASE64, 'base64'), {});

describe('HostWasm', () => {
  it('runs on ordinary arrays through its private memory: inputs copied in, outputs copied back, inputs untouched', () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]); // [2, 3]
    const b = Float32Array.from([1, 0, 0, 1, 1, 1]); // [3, 2]
    const c = new Float32Array(4).fill(NaN);
    module().run('gemm', undefined, { inputs: [a, b], outputs: [c], work: new Float64Array(12) }, [2, 3, 2, 0, 0]);
    expect(Array.from(c)).toEqual([4, 5, 10, 11]);
    expect(Array.from(a)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('grows its private memory for arrays larger than it (here 3 × 1 MB)', () => {
    const n = 512;
    const a = new Float32Array(n * n).fill(1);
    const b = new Float32Array(n * n).fill(0.5);
    const c = new Float32Array(n * n);
    module().run('gemm', undefined, { inputs: [a, b], outputs: [c], work: new Float64Array((n * n) / 2) }, [n, n, n, 0, 0]);
    expect(c[0]).toBe(256);
    expect(c[n * n - 1]).toBe(256);
  });

  it('works in place on a given memory, and refuses arrays that are not views of it', () => {
    const memory = new WA.Memory({ initial: 1 });
    const heap = new Float32Array(memory.buffer);
    const a = heap.subarray(0, 4);
    const b = heap.subarray(4, 8);
    const c = heap.subarray(8, 12);
    const work = new Float64Array(memory.buffer, 64, 8); // 2 rows of one 8-column panel
    a.set([1, 2, 3, 4]);
    b.set([2, 0, 0, 2]);
    const wasm = module();
    wasm.run('gemm', memory as never, { inputs: [a, b], outputs: [c], work }, [2, 2, 2, 0, 0]);
    expect(Array.from(c)).toEqual([2, 4, 6, 8]);
    const outside = new Float32Array(4);
    expect(() => wasm.run('gemm', memory as never, { inputs: [a, outside], outputs: [c], work }, [2, 2, 2, 0, 0])).toThrow(
      'HostWasm.gemm: an array is not in the given memory',
    );
  });
});
