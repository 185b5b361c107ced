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
