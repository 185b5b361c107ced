import { describe, it } from 'vitest';
import { ADAM_WASM_BASE64 } from '../../src/backend/adam-wasm.js';
import { ADAM_WASM, BIAS_TANH_WASM, BOX_MULLER_WASM, GEMM_WASM, NORMAL_WASM } from '../../src/backend/assembly/build.js';
import { BOX_MULLER_WASM_BASE64 } from '../../src/backend/box-muller-wasm.js';
import { BIAS_TANH_WASM_BASE64 } from '../../src/backend/bias-tanh-wasm.js';
import { GEMM_WASM_BASE64 } from '../../src/backend/gemm-wasm.js';
import { NORMAL_WASM_BASE64 } from '../../src/backend/normal-wasm.js';
import { NORMAL_CONSTANTS } from '../../src/core/diagonal-normal-kernels.js';
import { BIAS_TANH_CONSTANTS } from '../../src/nn/bias-tanh.js';
import { withSharedMemory } from '../../src/backend/wasm-binary.js';
import { expectBuiltFromSource, expectConstantsFitWork, expectNoOwnMemory } from '../support/wasm.js';

// The core's WebAssembly kernels (their behaviour: gemm.test.ts, adam.test.ts, bias-tanh.test.ts,
// test/core/diagonal-normal-kernels.test.ts, test/core/random-box-muller.test.ts; on threads:
// test/backend/gemm-threads.test.ts, test/backend/helper-threads.test.ts).
const MEMORY = ['env.memory:memory'];
// Random's normals run on a memory of their own (never the tensors' heap, so never shared) and
// call JavaScript's Math for their rare exact path.
for (const [build, base64, imports, onHeap] of [
  [GEMM_WASM, GEMM_WASM_BASE64, MEMORY, true],
  [ADAM_WASM, ADAM_WASM_BASE64, MEMORY, true],
  [BIAS_TANH_WASM, BIAS_TANH_WASM_BASE64, MEMORY, true],
  [NORMAL_WASM, NORMAL_WASM_BASE64, MEMORY, true],
  [BOX_MULLER_WASM, BOX_MULLER_WASM_BASE64, [...MEMORY, 'env.log:function', 'env.cos:function', 'env.sin:function'], false],
] as const) {
  describe(`${build.source} as WebAssembly (${build.name})`, () => {
    const binary = Buffer.from(base64, 'base64');

    it('is the committed binary `npm run build:wasm` compiles from it', async () => {
      await expectBuiltFromSource(build, binary);
    }, 60_000);

    it(`owns no memory: imports only ${imports.join(', ')} (a plain memory), has no memory, data or global sections`, () => {
      expectNoOwnMemory(binary, [...imports], 'plain');
    });

    if (onHeap) {
      it('declared shared (withSharedMemory, for a shared heap), imports a shared memory and still owns none', () => {
        expectNoOwnMemory(withSharedMemory(binary)!, [...imports], 'shared');
      });
    }
  });
}

for (const [build, elements] of [
  [BIAS_TANH_WASM, BIAS_TANH_CONSTANTS],
  [NORMAL_WASM, NORMAL_CONSTANTS],
] as const) {
  describe(`${build.source}: vector constants`, () => {
    it('gets a work area the size of its vector constants', () => {
      expectConstantsFitWork(build, elements);
    });
  });
}
