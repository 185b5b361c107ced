import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { compileAssemblyScript, wasmModuleText } from '../../src/backend/assembly/build.js';

/** What a module imports its memory as: an ordinary memory, or a shared one (`withSharedMemory`). */
export type MemoryKind = 'plain' | 'shared';

/** Section ids of a wasm binary (1 type, 2 import, 3 function, 5 memory, 6 global, 7 export, 10 code, 11 data, 12 data count). */
export function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++]!;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++]!;
      size |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    ids.push(id);
    at += size;
  }
  return ids;
}

/** The committed module `target` is exactly what compiling `source` gives (binary and file text), for the build's memory kind (plain unless it says shared). */
export async function expectBuiltFromSource(build: { target: URL; source: string; name: string }, committed: Uint8Array): Promise<void> {
  const fresh = await compileAssemblyScript(fileURLToPath(new URL(build.source, build.target)));
  expect(Buffer.from(fresh).equals(Buffer.from(committed))).toBe(true);
  expect(readFileSync(build.target, 'utf8')).toBe(wasmModuleText(build.name, build.source, fresh));
}

/** The bytes of the first section with id `id` (undefined if there is none). */
function section(bytes: Uint8Array, id: number): Uint8Array | undefined {
  let at = 8;
  while (at < bytes.length) {
    const sid = bytes[at++]!;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++]!;
      size |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    if (sid === id) return bytes.subarray(at, at + size);
    at += size;
  }
  return undefined;
}

/**
 * The limits of each imported memory, read from the import section (`WebAssembly.Module.imports`
 * reports a shared memory as plain `kind: 'memory'`): `name` is `module.name`, `flags` the limits
 * byte (bit 0: a maximum is given, bit 1: shared, bit 2: 64-bit).
 */
export function memoryImports(binary: Uint8Array): { name: string; flags: number; initial: number; maximum?: number }[] {
  const s = section(binary, 2);
  if (!s) return [];
  let at = 0;
  const u32 = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = s[at++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
    }
  };
  const name = () => {
    const n = u32();
    const text = Buffer.from(s.subarray(at, at + n)).toString('utf8');
    at += n;
    return text;
  };
  const limits = () => {
    const flags = s[at++]!;
    const initial = u32();
    return { flags, initial, ...(flags & 1 ? { maximum: u32() } : {}) };
  };
  const memories: { name: string; flags: number; initial: number; maximum?: number }[] = [];
  for (let count = u32(), i = 0; i < count; i++) {
    const full = `${name()}.${name()}`;
    const kind = s[at++]!;
    if (kind === 0) u32(); // function: its type index
    else if (kind === 1) {
      at++; // table: its element type, then limits
      limits();
    } else if (kind === 2) memories.push({ name: full, ...limits() });
    else if (kind === 3) at += 2; // global: value type, mutability
    else throw new Error(`import ${full}: unknown kind ${kind}`);
  }
  expect(at).toBe(s.length); // the whole section was read: the parse is meaningful
  return memories;
}

/**
 * The module owns no memory: its imports are exactly `imports` (`module.name:kind`), and it has no
 * memory, global, data or data-count section. Its imported memory is `memory`: plain (not shared,
 * and it instantiates on a plain memory, not on a shared one) or shared (the reverse).
 */
export function expectNoOwnMemory(binary: Uint8Array, imports: string[], memory: MemoryKind = 'plain'): void {
  const WA = (globalThis as unknown as { WebAssembly: { Module: { new (b: Uint8Array): unknown; imports(m: unknown): { module: string; name: string; kind: string }[] } } }).WebAssembly;
  const module = new WA.Module(binary);
  expect(WA.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`).sort()).toEqual([...imports].sort());
  const ids = sectionIds(binary);
  expect(ids).toContain(10); // the code section was found: the parse is meaningful
  for (const forbidden of [5, 6, 11, 12]) expect(ids).not.toContain(forbidden);
  const memories = memoryImports(binary);
  expect(memories.map((m) => `${m.name}:memory`)).toEqual(imports.filter((i) => i.endsWith(':memory')));
  for (const m of memories) {
    expect(m.flags & 4).toBe(0); // 32-bit
    if (memory === 'shared') {
      // A shared memory must declare its maximum.
      expect(m.flags).toBe(3);
      expect(m.maximum).toBeGreaterThanOrEqual(m.initial);
    } else expect(m.flags & 2).toBe(0);
  }
  // The engine agrees: the module instantiates on the memory of its kind and refuses the other
  // (only for modules whose one import is their memory; the others need their functions too).
  if (imports.length === 1 && memories.length === 1) {
    const WAM = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => unknown; Instance: new (m: unknown, i: object) => unknown } }).WebAssembly;
    const [env, field] = memories[0]!.name.split('.') as [string, string];
    const instantiate = (shared: boolean) => () => new WAM.Instance(module, { [env]: { [field]: new WAM.Memory({ initial: memories[0]!.initial, maximum: memories[0]!.maximum ?? 65536, shared }) } });
    expect(instantiate(memory === 'shared')).not.toThrow();
    expect(instantiate(memory !== 'shared')).toThrow(/shared/);
  }
}

/**
 * A module that keeps its vector constants in the work area (`setConstants`) gets a work area of
 * `workElements` float64s from its host kernel: 2 per 16-byte slot of `CONSTANTS` in the source,
 * and `setConstants` writes exactly CONSTANTS slots (a slot added on one side only would write
 * past the work area or leave a constant unset). A module whose slots start after the shared e^x
 * constants (`CONSTANTS = EXP_SLOTS + n`, `setExpConstants(c)` first; `simd.as.ts` next to it)
 * counts those too, and `setExpConstants` must write exactly EXP_SLOTS.
 */
export function expectConstantsFitWork(build: { target: URL; source: string }, workElements: number): void {
  const sourceUrl = new URL(build.source, build.target);
  const source = readFileSync(sourceUrl, 'utf8');
  const stores = (text: string, fn: string) => (new RegExp(`function ${fn}\\(c: usize\\): void \\{([^}]*)\\}`).exec(text)?.[1] ?? '').match(/v128\.store\(c \+/g)?.length ?? 0;
  const declared = /^const CONSTANTS = (EXP_SLOTS \+ )?(\d+);/m.exec(source);
  expect(declared, 'const CONSTANTS = … in the source').not.toBeNull();
  let slots = Number(declared![2]);
  let written = stores(source, 'setConstants');
  if (declared![1]) {
    const shared = readFileSync(new URL('./simd.as.ts', sourceUrl), 'utf8');
    const expSlots = Number(/^export const EXP_SLOTS = (\d+);/m.exec(shared)?.[1]);
    expect(stores(shared, 'setExpConstants')).toBe(expSlots);
    expect(source).toMatch(/function setConstants\(c: usize\): void \{\s*setExpConstants\(c\);/);
    slots += expSlots;
    written += expSlots;
  }
  expect(written).toBe(slots);
  expect(2 * slots).toBe(workElements);
}
