/**
 * One edit of a WebAssembly binary: its memory (defined in the module or imported) declared
 * shared. A module without atomics is valid either way, and runs the same code; declared shared,
 * its memory can be handed to other threads (`./gemm-threads.ts`) and every typed array
 * on it is a view of a SharedArrayBuffer. `./shared-heap.ts` uses it on tfjs-wasm's own module (so
 * the tensors live in a shared heap) and `./host-wasm.ts` on vaekit's kernels, which must import
 * their memory as shared to be instantiated on such a heap.
 *
 * Only the memory's limits change: the flag byte becomes 0x03 (shared, with a maximum) and a
 * maximum is added where there was none (`maxPages`; a shared memory must declare one). Sections
 * are re-encoded where their length changes; everything else is copied byte for byte.
 */

/** Pages of 64 KiB a memory may grow to when the binary declares no maximum (4 GiB, wasm32's limit). */
export const MAX_SHARED_PAGES = 65536;

const IMPORT_SECTION = 2;
const MEMORY_SECTION = 5;
const KIND_FUNC = 0;
const KIND_TABLE = 1;
const KIND_MEMORY = 2;
const KIND_GLOBAL = 3;
const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Reads an unsigned LEB128 at `at`: [value, the offset after it]. */
function readU32(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (at >= bytes.length) throw new Error('wasm binary: truncated LEB128');
    const b = bytes[at++]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, at];
    scale *= 128;
  }
}

function u32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

/** Skips a name (length-prefixed bytes). */
function skipName(bytes: Uint8Array, at: number): number {
  const [length, start] = readU32(bytes, at);
  return start + length;
}

/** Limits at `at`: their flag, min, max (undefined: none) and the offset after them. */
function readLimits(bytes: Uint8Array, at: number): { flag: number; min: number; max?: number; end: number } {
  const flag = bytes[at]!;
  if (flag > 3) throw new Error(`wasm binary: unsupported memory limits flag 0x${flag.toString(16)} (memory64?)`);
  const [min, afterMin] = readU32(bytes, at + 1);
  if ((flag & 1) === 0) return { flag, min, end: afterMin };
  const [max, end] = readU32(bytes, afterMin);
  return { flag, min, max, end };
}

/** The limits re-encoded as shared (flag 0x03) with a maximum. */
function sharedLimits(limits: { min: number; max?: number }, maxPages: number): number[] {
  return [0x03, ...u32(limits.min), ...u32(limits.max ?? Math.max(maxPages, limits.min))];
}

/** Where the one memory's limits are in a section's body: [start, end) of the limits, or undefined. */
function memoryLimitsIn(bytes: Uint8Array, id: number, body: number): [number, number] | undefined {
  let [count, at] = readU32(bytes, body);
  if (id === MEMORY_SECTION) {
    if (count === 0) return undefined;
    if (count > 1) throw new Error(`wasm binary: ${count} memories; expected one`);
    return [at, readLimits(bytes, at).end];
  }
  for (; count > 0; count--) {
    at = skipName(bytes, skipName(bytes, at));
    const kind = bytes[at++]!;
    if (kind === KIND_MEMORY) return [at, readLimits(bytes, at).end];
    if (kind === KIND_FUNC) at = readU32(bytes, at)[1];
    else if (kind === KIND_TABLE) at = readLimits(bytes, at + 1).end;
    else if (kind === KIND_GLOBAL) at += 2;
    else throw new Error(`wasm binary: unsupported import kind ${kind}`);
  }
  return undefined;
}

/**
 * `bytes` with its memory declared shared (the same bytes if it already is), or undefined when
 * the module has no memory. Throws on a binary it cannot read.
 */
export function withSharedMemory(bytes: Uint8Array, maxPages = MAX_SHARED_PAGES): Uint8Array | undefined {
  if (bytes.length < 8 || WASM_HEADER.some((b, i) => bytes[i] !== b)) throw new Error('wasm binary: not a WebAssembly 1.0 module');
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, body] = readU32(bytes, at + 1);
    const end = body + size;
    if (end > bytes.length) throw new Error('wasm binary: truncated section');
    const limits = id === IMPORT_SECTION || id === MEMORY_SECTION ? memoryLimitsIn(bytes, id, body) : undefined;
    if (limits) {
      const [start, stop] = limits;
      const old = readLimits(bytes, start);
      if (old.flag === 0x03) return bytes;
      const patched = sharedLimits(old, maxPages);
      const newBody = [...bytes.subarray(body, start), ...patched, ...bytes.subarray(stop, end)];
      const head = [id, ...u32(newBody.length)];
      const out = new Uint8Array(at + head.length + newBody.length + (bytes.length - end));
      out.set(bytes.subarray(0, at));
      out.set(head, at);
      out.set(newBody, at + head.length);
      out.set(bytes.subarray(end), at + head.length + newBody.length);
      return out;
    }
    at = end;
  }
  return undefined;
}
