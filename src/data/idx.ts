import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeFileSync, statSync } from 'node:fs';
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
  /** When only some rows were read (`rows` option): the size of the first axis in the file. */
  rowsInFile?: number;
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

export interface ReadIdxOptions {
  /** Appended to the error when the file does not exist (e.g. which package provides it). */
  missingHint?: string;
  /**
   * Read only entries `start … end−1` of the first axis (rows of a `[N, …]` array). A raw file
   * then reads only those bytes from disk; a gzipped one is decompressed whole first.
   */
  rows?: readonly [number, number];
}

/**
 * Reads an IDX file, raw or gzipped (detected by the gzip magic 0x1f 0x8b, not by the name).
 * Validates the magic and that the file holds exactly the number of bytes its header declares.
 * Errors name the file and the problem.
 */
export function readIdx(path: string, { missingHint, rows }: ReadIdxOptions = {}): IdxArray {
  if (!existsSync(path)) {
    throw new Error(`${path}: missing; ${missingHint ?? 'no such file'}`);
  }
  if (statSync(path).isDirectory()) throw new Error(`${path}: is a directory; expected an IDX file`);
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, 4 + 4 * 255));
    readSync(fd, head, 0, head.length, 0);
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      let bytes: Uint8Array;
      try {
        bytes = gunzipSync(readFileSync(fd));
      } catch (e) {
        throw new Error(`${path}: corrupt gzip data (${(e as Error).message})`);
      }
      return parseIdx(bytes, path, rows);
    }
    const { type, dims, header } = parseHeader(head, path, size);
    if (!rows) return parseIdx(readFileSync(fd), path);
    const [start, end] = checkRows(rows, dims, path);
    const rowBytes = dims.slice(1).reduce((a, b) => a * b, 1) * type.bytes;
    const body = new Uint8Array(header + (end - start) * rowBytes);
    body.set(head.subarray(0, header));
    new DataView(body.buffer).setUint32(4, end - start);
    readSync(fd, body, header, (end - start) * rowBytes, header + start * rowBytes);
    return { ...parseIdx(body, path), rowsInFile: dims[0]! };
  } finally {
    closeSync(fd);
  }
}

function checkRows(rows: readonly [number, number], dims: number[], source: string): [number, number] {
  const [start, end] = rows;
  const n = dims[0] ?? 0;
  if (dims.length === 0 || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new Error(`${source}: rows [${start}, ${end}) are not within the ${n} rows of the file`);
  }
  return [start, end];
}

function hexCode(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}

/** Validates the magic, the header and the total size (`size` bytes, header included). */
function parseHeader(bytes: Uint8Array, source: string, size: number): { type: IdxType; dims: number[]; header: number } {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${source}: not an IDX file (first bytes ${hex(bytes.subarray(0, 4))}; expected 0x0000 then a type code and the number of dimensions)`);
  }
  const type = TYPES.find((t) => t.code === bytes[2]);
  if (!type) {
    throw new Error(
      `${source}: not an IDX file (type code ${hexCode(bytes[2]!)} in first bytes ${hex(bytes.subarray(0, 4))}; expected one of ${TYPES.map((t) => `${hexCode(t.code)} (${t.name})`).join(', ')})`,
    );
  }
  const ndims = bytes[3]!;
  const header = 4 + 4 * ndims;
  if (size < header || bytes.length < header) {
    throw new Error(`${source}: truncated header (${size} bytes; ${ndims} dimensions need ${header})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = header + count * type.bytes;
  if (size !== expected) {
    throw new Error(
      `${source}: wrong size: the header declares ${dims.join('×')} ${type.name} values (${expected} bytes with the header); the file has ${size} bytes`,
    );
  }
  return { type, dims, header };
}

/** Parses IDX bytes (already decompressed); `source` names them in errors; `rows` as in `readIdx`. */
export function parseIdx(bytes: Uint8Array, source = 'IDX data', rows?: readonly [number, number]): IdxArray {
  const { type, dims, header } = parseHeader(bytes, source, bytes.length);
  let start = 0;
  let end = dims[0] ?? 1;
  if (rows) [start, end] = checkRows(rows, dims, source);
  const perRow = dims.length === 0 ? 1 : dims.slice(1).reduce((a, b) => a * b, 1);
  const outDims = dims.length === 0 ? [] : [end - start, ...dims.slice(1)];
  const count = (end - start) * perRow;
  const first = header + start * perRow * type.bytes;
  let data: IdxData;
  if (type.bytes === 1) {
    // Single bytes need no byte swapping: a plain copy (Buffer#slice would be a view pinning the file).
    const copy = new Uint8Array(bytes.subarray(first, first + count));
    data = type.code === 0x08 ? copy : new Int8Array(copy.buffer, copy.byteOffset, copy.length);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    data = type.make(count);
    for (let i = 0; i < count; i++) data[i] = type.read(view, first + i * type.bytes);
  }
  return rows ? { dims: outDims, data, rowsInFile: dims[0]! } : { dims: outDims, data };
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
