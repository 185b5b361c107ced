/**
 * Compiles `bernoulli-kernel.as.ts` (AssemblyScript) into `../bernoulli-wasm.ts` (see the core's
 * `src/backend/assembly/build.ts`). Run by `npm run build:wasm`.
 */
import { fileURLToPath } from 'node:url';
import { buildWasm } from '../../../src/backend/assembly/build.js';

/** Where the Bernoulli log-likelihood kernels are built. */
export const BERNOULLI_WASM = { target: new URL('../bernoulli-wasm.ts', import.meta.url), source: './assembly/bernoulli-kernel.as.ts', name: 'BERNOULLI_WASM_BASE64' };

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWasm(BERNOULLI_WASM.target, BERNOULLI_WASM.source, BERNOULLI_WASM.name);
}
