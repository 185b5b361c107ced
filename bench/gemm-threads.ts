/**
 * vaekit's matrix product on one thread against the same product split over two kernel threads
 * (`setKernelThreads`), for the shapes of a 784-200-200-50 training step at batch 100 and 1000:
 * the best of three interleaved timings each way, and a check that both give the same bits.
 *
 *   npx tsx bench/gemm-threads.ts
 */
import { tf } from '../src/core/tf.js';
import { selectBackend } from '../src/backend/select-backend.js';
import { gemm } from '../src/nn/gemm.js';
import { setKernelThreads } from '../src/backend/kernel-threads.js';
import { stopGemmThreads } from '../src/backend/gemm-threads.js';
await selectBackend('wasm', { quiet: true });
const shapes: [number, number, number, boolean, boolean][] = [[100,784,200,false,false],[100,200,784,false,false],[784,100,200,true,false],[100,200,200,false,false],[100,200,50,false,false],[200,100,50,true,false],[1000,784,200,false,false],[784,1000,200,true,false],[1000,200,784,false,true]];
for (const [m,k,n,ta,tb] of shapes) {
  const a = tf.randomNormal(ta ? [k,m] : [m,k]) as tf.Tensor2D, b = tf.randomNormal(tb ? [n,k] : [k,n]) as tf.Tensor2D;
  const res: Record<string, number> = {};
  let ref: Float32Array | undefined;
  for (const t of [1, 2, 1, 2, 1, 2]) {
    setKernelThreads(t);
    for (let i=0;i<3;i++) tf.dispose(gemm(a,b,ta,tb));
    const reps = Math.max(5, Math.round(2e8 / (m*k*n)));
    const t0 = performance.now();
    for (let i=0;i<reps;i++) tf.dispose(gemm(a,b,ta,tb));
    const ms = (performance.now()-t0)/reps;
    res[t] = Math.min(res[t] ?? 1e9, ms);
    const c = gemm(a,b,ta,tb); const v = c.dataSync() as Float32Array; c.dispose();
    if (!ref) ref = v.slice(); else if (!v.every((x,i)=>x===ref![i] || (Number.isNaN(x) && Number.isNaN(ref![i])))) console.log('MISMATCH', m,k,n);
  }
  console.log(`${m}x${k}x${n} ta=${+ta} tb=${+tb}: 1 thread ${res[1].toFixed(3)} ms (${(2*m*k*n/res[1]/1e6).toFixed(1)} GF/s), 2 threads ${res[2].toFixed(3)} ms, ratio ${(res[2]/res[1]).toFixed(2)}`);
  a.dispose(); b.dispose();
}
await stopGemmThreads();
