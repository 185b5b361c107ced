/**
 * The product kernel of a git revision against the working tree's, on one thread: both WebAssembly
 * binaries (`src/backend/gemm-wasm.ts`, the revision's read with `git show`) instantiated over one
 * memory and timed in interleaved ABBA rounds on the shapes of a 784-200-200-50 VAE training step
 * (forward, dX = dY·Wᵀ, dW = Xᵀ·dY). Prints GFLOP/s of each (median wall time per product) and
 * the median over rounds of the time ratio working tree ÷ revision. For kernel changes that keep
 * the bits (the tests check that); nothing but the two binaries differs between the sides.
 *
 *   npx tsx bench/gemm-revisions.ts --base HEAD~1 [--batch 100,1000] [--rounds 11]
 */
import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { decodeBase64 } from '../src/backend/base64.js';
import { GEMM_WASM_BASE64 } from '../src/backend/gemm-wasm.js';
import { gemmStepShapes } from './gemm-step-shapes.js';

const o = new Command('gemm-revisions')
  .requiredOption('--base <rev>', 'git revision whose product kernel is the baseline')
  .option('--batch <sizes>', 'batch sizes', '100,1000')
  .option('--rounds <n>', 'interleaved rounds (ABBA)', '11')
  .parse(process.argv)
  .opts<{ base: string; batch: string; rounds: string }>();

const source = execFileSync('git', ['show', `${o.base}:src/backend/gemm-wasm.ts`], { encoding: 'utf8' });
const base64 = [...source.matchAll(/'([A-Za-z0-9+/=]+)'/g)].map((m) => m[1]).join('');
if (!base64) throw new Error(`--base ${o.base}: no base64 binary in its src/backend/gemm-wasm.ts`);

type Gemm = (a: number, b: number, c: number, work: number, m: number, k: number, n: number, ta: number, tb: number) => void;
// The ES2022 lib and @types/node do not declare WebAssembly: the two calls used here.
const WA = (globalThis as unknown as {
  WebAssembly: {
    Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
    instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: { gemm: Gemm } } }>;
  };
}).WebAssembly;
const memory = new WA.Memory({ initial: 2048 }); // 128 MiB: operands, C and the packed panels
const load = async (b64: string) => (await WA.instantiate(decodeBase64(b64), { env: { memory } })).instance.exports.gemm;
const sides = [await load(base64), await load(GEMM_WASM_BASE64)];
const values = new Float32Array(memory.buffer);
for (let i = 0; i < values.length; i++) values[i] = Math.sin(i) * 0.5;
const [A, B, C, WORK] = [0, 8 << 20, 16 << 20, 32 << 20]; // byte offsets, ≥ 8 MiB apart

const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
console.log(`product kernel: working tree against ${o.base} (one thread, wall time, median of ${o.rounds} ABBA rounds)`);
console.log('| M×K×N | op | base GFLOP/s | working tree GFLOP/s | working tree ÷ base time |');
console.log('|---|---|---:|---:|---:|');
for (const b of o.batch.split(',').map(Number)) {
  for (const [m, k, n, ta, tb] of gemmStepShapes(b)) {
    const reps = Math.max(1, Math.round(5e7 / (m * k * n)));
    const time = (g: Gemm) => {
      const t = performance.now();
      for (let r = 0; r < reps; r++) g(A, B, C, WORK, m, k, n, ta ? 1 : 0, tb ? 1 : 0);
      return (performance.now() - t) / reps;
    };
    sides.forEach(time);
    const t: number[][] = [[], []];
    for (let r = 0; r < Number(o.rounds); r++) for (const i of r % 2 ? [1, 0] : [0, 1]) t[i]!.push(time(sides[i]!));
    const flops = 2 * m * k * n;
    const ratio = med(t[1]!.map((x, r) => x / t[0]![r]!));
    console.log(`| ${m}×${k}×${n} | ${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'} | ${(flops / (med(t[0]!) * 1e6)).toFixed(1)} | ${(flops / (med(t[1]!) * 1e6)).toFixed(1)} | ${ratio.toFixed(3)} |`);
  }
}
