import Benchmark from 'benchmark';
import { tf } from '../../plugins/index.js';
import type { Stepper } from './steppers.js';

/** A stepper's step as benchmark.js measured it, with the live tensor count around it. */
export interface Measured {
  /** Wall ms per step: benchmark.js mean, relative margin of error (95 %, %) and number of calls. */
  ms: number;
  rme: number;
  calls: number;
  /** CPU ms of this process per step: mean and relative margin of error (95 %, %). */
  cpuMs: number;
  cpuRme: number;
  tensorsBefore: number;
  tensorsAfter: number;
}

export function meanRme(xs: number[]): { mean: number; rme: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  return { mean, rme: n > 1 ? (100 * 1.96 * sd) / Math.sqrt(n) / mean : NaN };
}

/**
 * Runs a deferred benchmark.js benchmark whose call is one block of `n` steps of `stepper`.
 * Warm-up blocks come first (≥ 3 steps and ~1 s: JIT, heap and wasm memory growth, optimiser
 * slots); the live tensor count is taken after them and after the benchmark.
 */
export async function measure(name: string, stepper: Stepper, n: number, maxTime: number, quick: boolean): Promise<Measured> {
  // benchmark.js would otherwise recompile the function from its source, losing closures.
  (Benchmark.support as { decompilation: boolean }).decompilation = false;
  const warmUntil = performance.now() + (quick ? 0 : Math.min(1000, (maxTime * 1000) / 3));
  for (let done = 0; done < (quick ? 1 : 3) || performance.now() < warmUntil; done += n) await stepper.run(n);
  const before = tf.memory().numTensors;
  const cpu: number[] = [];
  const bench = new Benchmark(name, {
    defer: true,
    fn: (deferred: Benchmark.Deferred) => {
      void stepper.run(n).then((t) => {
        cpu.push(t.cpuMs / n);
        deferred.resolve();
      });
    },
    maxTime,
    ...(quick ? { minSamples: 2, minTime: 0.001, initCount: 1, delay: 0 } : { minSamples: 5 }),
  } as Benchmark.Options);
  await new Promise<void>((done, fail) => {
    bench.on('complete', () => done());
    bench.on('error', () => fail((bench as unknown as { error: Error }).error));
    bench.run({ async: true });
  });
  const error = (bench as unknown as { error?: Error }).error;
  if (error) throw error;
  const c = meanRme(cpu);
  return { ms: (bench.stats.mean * 1000) / n, rme: bench.stats.rme, calls: bench.stats.sample.length, cpuMs: c.mean, cpuRme: c.rme, tensorsBefore: before, tensorsAfter: tf.memory().numTensors };
}
