import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { compileAssemblyScript, wasmModuleText } from '../../src/backend/assembly/build.js';

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

/** The committed module `target` is exactly what compiling `source` gives (binary and file text). */
export async function expectBuiltFromSource(build: { target: URL; source: string; name: string }, committed: Uint8Array): Promise<void> {
  const fresh = await compileAssemblyScript(fileURLToPath(new URL(build.source, build.target)));
  expect(Buffer.from(fresh).equals(Buffer.from(committed))).toBe(true);
  expect(readFileSync(build.target, 'utf8')).toBe(wasmModuleText(build.name, build.source, fresh));
}

/** The module owns no memory: its imports are exactly `imports` (`module.name:kind`), and it has no memory, global, data or data-count section. */
export function expectNoOwnMemory(binary: Uint8Array, imports: string[]): void {
  const WA = (globalThis as unknown as { WebAssembly: { Module: { new (b: Uint8Array): unknown; imports(m: unknown): { module: string; name: string; kind: string }[] } } }).WebAssembly;
  const module = new WA.Module(binary);
  expect(WA.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`).sort()).toEqual([...imports].sort());
  const ids = sectionIds(binary);
  expect(ids).toContain(10); // the code section was found: the parse is meaningful
  for (const forbidden of [5, 6, 11, 12]) expect(ids).not.toContain(forbidden);
}
