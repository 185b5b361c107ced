import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * The IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * `0x00 0x00 <type> <ndims>`, then `ndims` big-endian uint32 sizes, then the values
 * row-major, big-endian. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
 * 0x0D float32, 0x0E float64.
 */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  /** Sizes of the axes, e.g. `[60000, 28, 28]`. */
  dims: number[];
  /** The values, row-major, in native byte order. */
  data: IdxData;
}

interface IdxType {
  code: number;
  name: string;
  bytes: number;
  make(n: number): IdxData;
  read(view: DataView, offset: number): number;
  write(view: DataView, offset: number, v: number): void;
}

const TYPES: readonly IdxType[] = [
  { code: 0x08, name: 'uint8', bytes: 1, make: (n) => new Uint8Array(n), read: (v, o) => v.getUint8(o), write: (v, o, x) => v.setUint8(o, x) },
  { code: 0x09, name: 'int8', bytes: 1, make: (n) => new Int8Array(n), read: (v, o) => v.getInt8(o), write: (v, o, x) => v.setInt8(o, x) },
  { code: 0x0b, name: 'int16', bytes: 2, make: (n) => new Int16Array(n), read: (v, o) => v.getInt16(o), write: (v, o, x) => v.setInt16(o, x) },
  { code: 0x0c, name: 'int32', bytes: 4, make: (n) => new Int32Array(n), read: (v, o) => v.getInt32(o), write: (v, o, x) => v.setInt32(o, x) },
  { code: 0x0d, name: 'float32', bytes: 4, make: (n) => new Float32Array(n), read: (v, o) => v.getFloat32(o), write: (v, o, x) => v.setFloat32(o, x) },
  { code: 0x0e, name: 'float64', bytes: 8, make: (n) => new Float64Array(n), read: (v, o) => v.getFloat64(o), write: (v, o, x) => v.setFloat64(o, x) },
];

function hex(bytes: Uint8Array): string {
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Reads an IDX file, raw or gzipped (detected by the gzip magic 0x1f 0x8b, not by the name).
 * Validates the magic and that the file holds exactly the number of bytes its header declares.
 * Errors name the file and the problem; `missingHint` is appended when the file does not exist
 * (e.g. which package provides it).
 */
export function readIdx(path: string, { missingHint }: { missingHint?: string } = {}): IdxArray {
  if (!existsSync(path)) {
    throw new Error(`${path}: missing; ${missingHint ?? 'no such file'}`);
  }
  let bytes: Uint8Array = readFileSync(path);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${path}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  return parseIdx(bytes, path);
}

/** Parses IDX bytes (already decompressed); `source` names them in errors. */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${source}: not an IDX file (first bytes ${hex(bytes.subarray(0, 4))}; expected 0x0000 then a type code and the number of dimensions)`);
  }
  const type = TYPES.find((t) => t.code === bytes[2]);
  if (!type) {
    throw new Error(
      `${source}: not an IDX file (type code 0x${bytes[2]!.toString(16).padStart(2, '0')} in first bytes ${hex(bytes.subarray(0, 4))}; expected one of ${TYPES.map((t) => `0x${t.code.toString(16).padStart(2, '0')} (${t.name})`).join(', ')})`,
    );
  }
  const ndims = bytes[3]!;
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw new Error(`${source}: truncated header (${bytes.length} bytes; ${ndims} dimensions need ${header})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = header + count * type.bytes;
  if (bytes.length !== expected) {
    throw new Error(
      `${source}: wrong size: the header declares ${dims.join('×')} ${type.name} values (${expected} bytes with the header); the file has ${bytes.length} bytes`,
    );
  }
  let data: IdxData;
  if (type.bytes === 1) {
    // Single bytes need no byte swapping: copy (so the result does not pin the file buffer).
    const copy = new Uint8Array(bytes.subarray(header)); // a plain copy (Buffer#slice would be a view)
    data = type.code === 0x08 ? copy : new Int8Array(copy.buffer, copy.byteOffset, copy.length);
  } else {
    data = type.make(count);
    for (let i = 0; i < count; i++) data[i] = type.read(view, header + i * type.bytes);
  }
  return { dims, data };
}

/** The IDX type code of a typed array. */
function typeOf(data: IdxData): IdxType {
  const name =
    data instanceof Uint8Array ? 'uint8'
    : data instanceof Int8Array ? 'int8'
    : data instanceof Int16Array ? 'int16'
    : data instanceof Int32Array ? 'int32'
    : data instanceof Float32Array ? 'float32'
    : 'float64';
  return TYPES.find((t) => t.name === name)!;
}

/** Encodes an array as IDX bytes (the inverse of `parseIdx`). */
export function encodeIdx({ dims, data }: IdxArray): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`encodeIdx: dims ${dims.join('×')} hold ${count} values; got ${data.length}`);
  }
  if (dims.length > 255) throw new Error(`encodeIdx: at most 255 dimensions; got ${dims.length}`);
  const type = typeOf(data);
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + count * type.bytes);
  const view = new DataView(bytes.buffer);
  bytes[2] = type.code;
  bytes[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  for (let i = 0; i < count; i++) type.write(view, header + i * type.bytes, data[i]!);
  return bytes;
}

/** Writes an IDX file, gzipped when `gzip` is set. */
export function writeIdx(path: string, array: IdxArray, { gzip = false }: { gzip?: boolean } = {}): void {
  const bytes = encodeIdx(array);
  writeFileSync(path, gzip ? gzipSync(bytes) : bytes);
}
