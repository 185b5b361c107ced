/**
 * Compiles `planar-kernel.as.ts` (AssemblyScript) into `../planar-wasm.ts` (see the core's
 * `src/backend/assembly/build.ts`). Run by `npm run build:wasm`.
 */
import { fileURLToPath } from 'node:url';
import { buildWasm } from '../../../src/backend/assembly/build.js';

/** Where the planar kernels are built. */
export const PLANAR_WASM = { target: new URL('../planar-wasm.ts', import.meta.url), source: './assembly/planar-kernel.as.ts', name: 'PLANAR_WASM_BASE64' };

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWasm(PLANAR_WASM.target, PLANAR_WASM.source, PLANAR_WASM.name);
}
