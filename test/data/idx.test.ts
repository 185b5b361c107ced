import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx, readIdx, writeIdx, type IdxArray } from '../../src/data/idx.js';

const dir = mkdtempSync(join(tmpdir(), 'vaekit-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const arrays: Record<string, IdxArray> = {
  uint8: { dims: [3, 2, 2], data: Uint8Array.from([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]) },
  int8: { dims: [4], data: Int8Array.from([-128, -1, 0, 127]) },
  int16: { dims: [2, 2], data: Int16Array.from([-32768, -2, 258, 32767]) },
  int32: { dims: [3], data: Int32Array.from([-2147483648, 16909060, 2147483647]) },
  float32: { dims: [2, 1], data: Float32Array.from([Math.fround(-1.5e-7), Math.fround(3.25e10)]) },
  float64: { dims: [1, 1, 3], data: Float64Array.from([Math.PI, -Number.MIN_VALUE, 1e300]) },
};

describe('readIdx', () => {
  for (const [name, array] of Object.entries(arrays)) {
    for (const gzip of [false, true]) {
      it(`round-trips ${name} values through a ${gzip ? 'gzipped' : 'raw'} file`, () => {
        const path = join(dir, `${name}${gzip ? '.gz' : ''}`);
        writeIdx(path, array, { gzip });
        const back = readIdx(path);
        expect(back.dims).toEqual(array.dims);
        expect(back.data.constructor).toBe(array.data.constructor);
        expect(Array.from(back.data)).toEqual(Array.from(array.data));
      });
    }
  }

  for (const gzip of [false, true]) {
    it(`reads a window of rows from a ${gzip ? 'gzipped' : 'raw'} file`, () => {
      const path = join(dir, `window${gzip ? '.gz' : ''}`);
      writeIdx(path, arrays.uint8!, { gzip });
      const w = readIdx(path, { rows: [1, 3] });
      expect(w.dims).toEqual([2, 2, 2]);
      expect(w.rowsInFile).toBe(3);
      expect(Array.from(w.data)).toEqual([4, 5, 250, 251, 252, 253, 254, 255]);
      const i16 = join(dir, `window16${gzip ? '.gz' : ''}`);
      writeIdx(i16, arrays.int16!, { gzip });
      expect(Array.from(readIdx(i16, { rows: [1, 2] }).data)).toEqual([258, 32767]);
      expect(() => readIdx(path, { rows: [2, 4] })).toThrow(`${path}: rows [2, 4) are not within the 3 rows of the file`);
    });
  }

  it('detects gzip by its magic bytes, not by the file name', () => {
    const path = join(dir, 'no-extension');
    writeFileSync(path, gzipSync(encodeIdx(arrays.int16!)));
    expect(Array.from(readIdx(path).data)).toEqual([-32768, -2, 258, 32767]);
  });

  it('reads big-endian headers and values as the format defines', () => {
    // magic 0x00000B01 (int16, 1 dimension), size 2, values 0x0102 = 258 and 0xFFFE = −2.
    const bytes = Uint8Array.from([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);
    const { dims, data } = parseIdx(bytes);
    expect(dims).toEqual([2]);
    expect(Array.from(data)).toEqual([258, -2]);
    expect(Array.from(encodeIdx({ dims, data }))).toEqual(Array.from(bytes));
  });

  it('rejects a file whose magic is not IDX, naming the file and its first bytes', () => {
    const path = join(dir, 'zip.bin');
    writeFileSync(path, Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]));
    expect(() => readIdx(path)).toThrow(`${path}: not an IDX file (first bytes 0x504b0304;`);
  });

  it('rejects an unknown type code', () => {
    const path = join(dir, 'type.bin');
    writeFileSync(path, Uint8Array.from([0, 0, 0x0a, 1, 0, 0, 0, 1, 7]));
    expect(() => readIdx(path)).toThrow(/type\.bin: not an IDX file \(type code 0x0a/);
  });

  it('rejects a file whose size does not match its header', () => {
    const path = join(dir, 'short.bin');
    const bytes = encodeIdx(arrays.uint8!);
    writeFileSync(path, bytes.subarray(0, bytes.length - 1));
    expect(() => readIdx(path)).toThrow(
      `${path}: wrong size: the header declares 3×2×2 uint8 values (28 bytes with the header); the file has 27 bytes`,
    );
    writeFileSync(path, Uint8Array.from([0, 0, 8, 3, 0, 0]));
    expect(() => readIdx(path)).toThrow(/truncated header \(6 bytes; 3 dimensions need 16\)/);
  });

  it('says a missing file is missing, with the hint', () => {
    const path = join(dir, 'absent-idx3-ubyte');
    expect(() => readIdx(path, { missingHint: 'install the thing' })).toThrow(`${path}: missing; install the thing`);
  });

  it('refuses to encode dims that do not match the values', () => {
    expect(() => encodeIdx({ dims: [2, 2], data: new Uint8Array(3) })).toThrow(/dims 2×2 hold 4 values; got 3/);
  });
});
