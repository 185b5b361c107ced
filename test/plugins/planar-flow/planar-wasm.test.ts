import { describe, expect, it } from 'vitest';
import { PLANAR_DET_FLOOR, PLANAR_ROUNDING } from '../../../plugins/planar-flow/planar-kernel.js';
import { PLANAR_WASM_BASE64 } from '../../../plugins/planar-flow/planar-wasm.js';
import { PLANAR_WASM } from '../../../plugins/planar-flow/assembly/build.js';
import { expectBuiltFromSource, expectNoOwnMemory } from '../../support/wasm.js';

const binary = Buffer.from(PLANAR_WASM_BASE64, 'base64');
const WA = (globalThis as unknown as { WebAssembly: any }).WebAssembly;

describe('planar kernels as WebAssembly', () => {
  it('the committed binary is what `npm run build:wasm` compiles from assembly/planar-kernel.as.ts', async () => {
    await expectBuiltFromSource(PLANAR_WASM, binary);
  }, 60_000);

  it('owns no memory: imports its memory and exp/log/log1p/tanh, has no memory, data or global sections', () => {
    expectNoOwnMemory(binary, ['env.exp:function', 'env.log1p:function', 'env.log:function', 'env.memory:memory', 'env.tanh:function']);
    const exports = (WA.Module.exports(new WA.Module(binary)) as { name: string }[]).map((e) => e.name).sort();
    expect(exports).toEqual(['backward', 'forward']);
  });

  it('writes nothing but its outputs and work area (every other byte of a sentinel-filled memory unchanged)', () => {
    const [k, b, d, s, p] = [2, 3, 5, 4, 3];
    const width = 2 * d + 1;
    const memory = new WA.Memory({ initial: 4 });
    const ex = new WA.Instance(new WA.Module(binary), { env: { memory, exp: Math.exp, log: Math.log, log1p: Math.log1p, tanh: Math.tanh } }).exports;
    const bytes = new Uint8Array(memory.buffer);
    bytes.fill(0xa5);
    let end = 64;
    // Arrays separated by 64-byte guard gaps; returns the byte offset.
    const place = (floats: number, data?: (i: number) => number, bytesPer = 4) => {
      const at = end;
      end += Math.ceil((floats * bytesPer + 64) / 16) * 16;
      if (data) {
        const view = new Float32Array(memory.buffer, at, floats);
        for (let i = 0; i < floats; i++) view[i] = data(i);
      }
      return { at, bytes: floats * bytesPer };
    };
    const z = place(k * b * d, (i) => Math.sin(i));
    const pp = place(p * s * width, (i) => 0.4 * Math.cos(3 * i));
    const bias = place(s * width, (i) => 0.1 * Math.sin(7 * i));
    const out = place(k * b * (d + s));
    const con = place(p * s * (d + 5));
    const trace = place(k * b * s * (d + 1));
    const fwork = place(d, undefined, 8);
    const dy = place(k * b * (d + s), (i) => Math.cos(i));
    const dz = place(k * b * d);
    const dp = place(p * s * width);
    const dbias = place(s * width);
    const bwork = place(2 * s * d + 2 * s + d + s * width, undefined, 8);
    const before = bytes.slice();
    ex.forward(z.at, pp.at, bias.at, out.at, con.at, trace.at, fwork.at, k, b, d, s, p, PLANAR_DET_FLOOR, PLANAR_ROUNDING * d);
    ex.backward(pp.at, bias.at, con.at, trace.at, dy.at, dz.at, dp.at, dbias.at, bwork.at, k, b, d, s, p, PLANAR_ROUNDING * d);
    const written = [out, con, trace, fwork, dz, dp, dbias, bwork];
    const inside = (i: number) => written.some((r) => i >= r.at && i < r.at + r.bytes);
    let changedOutside = 0;
    let changedInside = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== before[i]) {
        if (inside(i)) changedInside++;
        else changedOutside++;
      }
    }
    expect(changedOutside).toBe(0);
    expect(changedInside).toBeGreaterThan(0.9 * written.reduce((n, r) => n + r.bytes, 0));
  });
});
