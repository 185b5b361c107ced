/**
 * Speed benchmark (issues 7, 15): training steps of every plugin combination, the same step
 * written by hand in plain tfjs, the step with the transposed-matMul fix off, the project's own
 * PyTorch implementation of the same model (bench/pytorch/vae_reference.py) interleaved with
 * vaekit, importance-sampled evaluation throughput on one thread and on worker threads against
 * PyTorch on 1 and 2 threads, and a profile of where a step's time goes. Writes
 * `<out>/speed.md` and `<out>/speed.json` and prints PASS/FAIL lines for the issues' targets.
 *
 *   npx tsx bench/speed.ts                 # every installed fast backend (tensorflow, wasm)
 *   npx tsx bench/speed.ts --backend cpu   # the plain-JS backend (slow: opt-in, small budget)
 *   npx tsx bench/speed.ts --quick --batch 100 --filter 'gaussian|planar'
 *   npx tsx bench/speed.ts --targets --backend wasm   # only the rows of issue 15's targets (vs PyTorch)
 *
 * The PyTorch rows need `apt-get install python3-torch libopenblas0-pthread` (Debian's
 * /usr/bin/python3); without torch the bench says so and skips them. Timings of single-threaded
 * sides are CPU time (robust to other processes); ratios are measured interleaved in one run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { kernelThreads, selectBackend, setKernelThreads, tf } from '../plugins/index.js';
import { createProgress } from '../src/eval/progress.js';
import { checks, cost } from './speed/checks.js';
import { combinations, type Combination } from './speed/combinations.js';
import { binaryBatch, DIM, HIDDEN, LATENT } from './speed/data.js';
import { evalThroughput } from './speed/eval-throughput.js';
import { fmt, markdown } from './speed/markdown.js';
import { measure, type Measured } from './speed/measure.js';
import { pairedRatio } from './speed/paired-ratio.js';
import { profileStep, stepMacs } from './speed/profile.js';
import { DEFAULT_PYTHON, PytorchReference } from './speed/pytorch-reference.js';
import { handStepper, vaekitStepper, type Stepper } from './speed/steppers.js';
import type { SpeedOptions, SpeedResult, StepRow } from './speed/types.js';

export type { SpeedOptions, SpeedResult } from './speed/types.js';
export { medianInterval } from './speed/paired-ratio.js';

async function availableBackends(requested: string[], skipped: string[]): Promise<string[]> {
  let wanted: string[];
  if (requested.includes('all')) wanted = ['tensorflow', 'wasm', 'cpu'];
  else if (requested.includes('auto')) wanted = ['tensorflow', 'wasm'];
  else wanted = requested;
  const out: string[] = [];
  for (const b of wanted) {
    try {
      await selectBackend(b, { quiet: true });
      out.push(b);
    } catch (e) {
      if (requested.includes('auto') || requested.includes('all')) skipped.push(`backend ${b}: not installed (${(e as Error).message})`);
      else throw e;
    }
  }
  if (requested.includes('auto')) skipped.push('backend cpu: opt-in (plain JS, ~5–10× slower than wasm): --backend cpu or --backend all');
  return out;
}

function stepRow(base: Pick<StepRow, 'backend' | 'batch' | 'encoder' | 'likelihood' | 'variant'> & { spec?: string }, m: Measured): StepRow {
  return {
    ...base,
    msPerStep: m.ms,
    rme: m.rme,
    stepsPerSecond: 1000 / m.ms,
    samples: m.calls,
    cpuMsPerStep: m.cpuMs,
    cpuRme: m.cpuRme,
    tensorsBefore: m.tensorsBefore,
    tensorsAfter: m.tensorsAfter,
  };
}

/** What `setKernelThreads('auto')` gives in this process. */
function autoKernelThreads(): number {
  setKernelThreads('auto');
  try {
    return kernelThreads();
  } finally {
    setKernelThreads(null);
  }
}

export async function runSpeedBench(options: SpeedOptions = {}): Promise<SpeedResult> {
  const quick = options.quick ?? false;
  const targets = options.targets ?? false;
  const log = options.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const out = options.out ?? resolve('bench/results');
  const skipped: string[] = [];
  const initialBackend = tf.getBackend();
  const loadBefore = loadavg()[0]!;
  const backends = await availableBackends(options.backends ?? ['auto'], skipped);
  const isSamples = options.isSamples ?? 1000;
  const rounds = options.rounds ?? (quick ? 2 : 16);
  // vaekit's default: its products split over this many threads ('auto' as a user's main thread gets it).
  const kernelThreadCount = options.kernelThreads ?? autoKernelThreads();
  const result: SpeedResult = {
    date: new Date().toISOString(),
    node: process.version,
    quick,
    backends,
    skipped,
    machine: { cores: availableParallelism(), kernelThreads: kernelThreadCount, loadBefore, loadAfter: NaN },
    pytorch: { available: false, reason: 'turned off (--no-pytorch)' },
    steps: [],
    evaluation: [],
    profile: [],
    paired: [],
    checks: [],
  };

  let reference: PytorchReference | null = null;
  if (options.python !== false) {
    const started = PytorchReference.start(options.python ?? DEFAULT_PYTHON, 1);
    if ('reason' in started) result.pytorch = { available: false, reason: started.reason };
    else {
      reference = started.reference;
      result.pytorch = await reference.info();
    }
  }
  log(result.pytorch.available ? `speed: PyTorch ${result.pytorch.torch}, BLAS ${result.pytorch.blas}, ${result.pytorch.threads} thread(s)` : `speed: PyTorch reference not run: ${result.pytorch.reason}`);
  if (!result.pytorch.available) skipped.push(`PyTorch rows: ${result.pytorch.reason}`);

  try {
    for (const backend of backends) {
      await selectBackend(backend, { quiet: true });
      const cpu = backend === 'cpu';
      const batches = options.batches ?? (quick || cpu ? [100] : [100, 1000]);
      const maxTime = options.maxTime ?? (quick ? 0.02 : cpu ? 1 : 3);
      const combos = combinations(options.filter, backend === backends[0] ? skipped : []);
      const total = batches.length * (1 + 2 * combos.length) + combos.length;
      const bar = createProgress(`speed (${backend})`, total, options.progress === undefined ? {} : { enabled: options.progress });
      // Both sides single-threaded (wasm and cpu in Node, PyTorch pinned to 1 thread): compare CPU time; tensorflow threads itself.
      const clock = backend === 'tensorflow' ? 'wall' : 'cpu';
      log(`speed: ${backend}: ${combos.length} combinations × batches ${batches.join(', ')}, ${maxTime}s per benchmark`);
      try {
        for (const batch of batches) {
          const n = quick ? 1 : Math.max(1, Math.round(2500 / batch));
          const x = binaryBatch(batch, batch);
          // The step table (hand-written, each combination with and without the speed fixes); not with --targets.
          if (!targets) {
            const hand = handStepper(x);
            const handRow = stepRow({ backend, batch, encoder: 'hand-written', likelihood: 'bernoulli', variant: 'hand-written tfjs' }, await measure('hand-written', hand, quick ? 1 : Math.max(1, Math.round(n / 3)), maxTime, quick));
            await hand.dispose();
            handRow.speedupOverHand = 1;
            result.steps.push(handRow);
            bar.tick();
            log(`  ${backend} b${batch} hand-written: ${fmt(handRow.msPerStep, 2)} ms ±${fmt(handRow.rme)}% (CPU ${fmt(handRow.cpuMsPerStep, 2)} ms)`);

            for (const c of combos) {
              for (const variant of ['vaekit', 'vaekit, fix off'] as const) {
                const stepper = vaekitStepper(`${c.encoder}/${c.likelihood}`, c.config, batch, variant === 'vaekit' ? null : false);
                let m: Measured;
                try {
                  m = await measure(`${c.encoder}/${c.likelihood} ${variant}`, stepper, n, maxTime, quick);
                } finally {
                  await stepper.dispose();
                }
                const spec = JSON.stringify({ encoder: (c.config as { encoder: unknown }).encoder, prior: (c.config as { prior: unknown }).prior });
                const row = stepRow({ backend, batch, encoder: c.encoder, likelihood: c.likelihood, variant, spec }, m);
                row.speedupOverHand = cost(handRow).ms / cost(row).ms;
                if (variant === 'vaekit') row.matmulMacs = await stepMacs(c.config, batch);
                result.steps.push(row);
                bar.tick();
                log(`  ${backend} b${batch} ${c.encoder}/${c.likelihood} ${variant}: ${fmt(row.msPerStep, 2)} ms ±${fmt(row.rme)}% (CPU ${fmt(row.cpuMsPerStep, 2)} ms, ${fmt(row.speedupOverHand, 2)}× hand)`);
              }
            }
          }

          // The target ratios, measured interleaved: hand-written ÷ vaekit, planar ÷ gaussian per
          // decoder, and vaekit ÷ PyTorch for the gaussian and planar encoders (Bernoulli decoder).
          const combo = (encoder: string, likelihood: string) => combos.find((c) => c.encoder === encoder && c.likelihood === likelihood);
          // Each pair with its clock: CPU when both sides run one thread (robust to other processes), wall otherwise.
          const pairs: [() => Stepper | Promise<Stepper>, () => Stepper | Promise<Stepper>, 'cpu' | 'wall'][] = [];
          const gaussBern = combo('gaussian', 'bernoulli');
          if (gaussBern && !targets) pairs.push([() => handStepper(x), () => vaekitStepper('gaussian/bernoulli', gaussBern.config, batch), clock]);
          for (const likelihood of ['bernoulli', 'gaussian']) {
            const planar = combo('planar', likelihood);
            const diag = combo('gaussian', likelihood);
            if (planar && diag && !targets) pairs.push([() => vaekitStepper(`planar/${likelihood}`, planar.config, batch), () => vaekitStepper(`gaussian/${likelihood}`, diag.config, batch), clock]);
          }
          if (reference) {
            const ref = reference;
            for (const encoder of ['gaussian', 'planar'] as const) {
              const c = combo(encoder, 'bernoulli');
              // --targets: planar only at batch 100 (its only target).
              if (!c || (targets && encoder === 'planar' && batch !== 100)) continue;
              // One core each (CPU clock); then vaekit as it runs by default, its products split over
              // the kernel threads, against PyTorch on 1 thread (the targets) and on as many threads (wall clock).
              pairs.push([() => vaekitStepper(`${encoder}/bernoulli`, c.config, batch), () => ref.stepper(encoder, batch), clock]);
              if (kernelThreadCount > 1 && backend !== 'tensorflow') {
                const label = `${encoder}/bernoulli, ${kernelThreadCount} kernel threads`;
                pairs.push([() => vaekitStepper(label, c.config, batch, null, kernelThreadCount), () => ref.stepper(encoder, batch), 'wall']);
                pairs.push([() => vaekitStepper(label, c.config, batch, null, kernelThreadCount), () => ref.stepper(encoder, batch, kernelThreadCount), 'wall']);
              }
            }
          }
          for (const [makeA, makeB, pairClock] of pairs) {
            const a = await makeA();
            const b = await makeB();
            try {
              const row = await pairedRatio(a, b, { backend, batch, quick, rounds, clock: pairClock });
              result.paired.push(row);
              log(`  ${backend} b${batch} ${row.numerator} ÷ ${row.denominator} (interleaved, ${pairClock} clock): ${fmt(row.ratio, 2)} [${fmt(row.low, 2)}, ${fmt(row.high, 2)}] (${fmt(row.msA, 2)} vs ${fmt(row.msB, 2)} ms)`);
            } finally {
              await a.dispose();
              await b.dispose();
            }
          }
          x.dispose();
        }

        // IS throughput: log p̂(x) at K samples per row; vaekit on 1 thread, on worker threads and with kernel threads, PyTorch on 1 and 2.
        for (const c of combos) {
          const comparable = c.likelihood === 'bernoulli' && (c.encoder === 'gaussian' || c.encoder === 'planar');
          if (targets && !(c.encoder === 'gaussian' && c.likelihood === 'bernoulli')) continue;
          // The targets run takes twice the blocks: the evaluation target is the one nearest its line, and its interval the widest.
          const r = await evalThroughput(c, { backend, samples: isSamples, rows: quick ? 2 : comparable ? 50 : 10, rounds: quick || !comparable ? 1 : targets ? 12 : 6, reference, kernelThreads: kernelThreadCount });
          result.evaluation.push(...r.rows);
          result.paired.push(...r.paired);
          for (const e of r.rows) log(`  ${backend} IS K=${isSamples} ${c.encoder}/${c.likelihood} ${e.implementation} ${e.threads} thread(s)${e.kernelThreads ? `, ${e.kernelThreads} kernel threads` : ''}: ${fmt(e.rowsPerSecond, 2)} rows/s [${fmt(e.low, 2)}, ${fmt(e.high, 2)}]`);
          bar.tick();
        }

        const gauss = combos.find((c) => c.encoder === 'gaussian' && c.likelihood === 'bernoulli');
        const profileConfig: Combination['config'] = gauss?.config ?? { latentDim: LATENT, dataDim: DIM, encoder: { type: 'gaussian', hidden: HIDDEN }, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: HIDDEN }, seed: 1 };
        for (const batch of targets ? [] : batches) {
          const s = vaekitStepper('gaussian/bernoulli', profileConfig, batch);
          try {
            result.profile.push(await profileStep(backend, batch, quick, s));
          } finally {
            await s.dispose();
          }
        }
      } finally {
        bar.stop();
      }
    }
  } finally {
    await reference?.close();
    if (initialBackend) await selectBackend(initialBackend, { quiet: true });
  }
  result.machine.loadAfter = loadavg()[0]!;

  result.checks = checks(result);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'speed.json'), JSON.stringify(result, null, 2) + '\n');
  const md = markdown(result);
  writeFileSync(join(out, 'speed.md'), md);
  log('');
  log(md);
  return result;
}

const positiveInts = (flag: string) => (v: string) =>
  v.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected positive integers; got ${JSON.stringify(s.trim())}`);
    return n;
  });
const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer; got ${JSON.stringify(v)}`);
  return n;
};

export function program(): Command {
  return new Command('speed')
    .description('Training-step and evaluation speed per backend and plugin combination, against a hand-written tfjs step and the project\'s PyTorch reference, measured interleaved.')
    .option('--quick', 'tiny budget (for tests; not for comparison)')
    .option('--targets', 'only the rows of the PyTorch targets: vaekit ÷ PyTorch steps (gaussian at every batch, planar at 100) and the gaussian IS throughput')
    .option('--backend <names>', 'auto (tensorflow if installed, then wasm), all (adds cpu), or a list: tensorflow,wasm,cpu', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--batch <sizes>', 'batch sizes (default 100,1000)', positiveInts('--batch'))
    .option('--filter <regex>', 'only combinations whose "encoder/likelihood" matches')
    .option('--max-time <s>', 'seconds per benchmark (benchmark.js maxTime)', (v: string) => {
      const s = Number(v);
      if (!(s > 0)) throw new Error(`--max-time: expected seconds > 0; got ${JSON.stringify(v)}`);
      return s;
    })
    .option('--samples <K>', 'K of the importance-sampled throughput (default 1000)', positiveInt('--samples'))
    .option('--rounds <n>', 'interleaved rounds of each paired ratio (default 16)', positiveInt('--rounds'))
    .option('--kernel-threads <n>', "threads of the vaekit-as-default rows' products (default: what 'auto' gives here, the cores up to 4)", positiveInt('--kernel-threads'))
    .option('--python <path>', `interpreter of the PyTorch reference (default ${DEFAULT_PYTHON})`)
    .option('--no-pytorch', 'skip the PyTorch reference')
    .option('--out <dir>', 'where speed.md and speed.json go', 'bench/results')
    .option('--no-progress', 'no progress bar');
}

/** The bench's options from its command line (commander, as the other benches). */
export function parseOptions(argv: string[]): SpeedOptions {
  const o = program().exitOverride().configureOutput({ writeErr: () => {} }).parse(argv, { from: 'user' }).opts<{
    quick?: boolean;
    targets?: boolean;
    backend?: string[];
    batch?: number[];
    filter?: string;
    maxTime?: number;
    samples?: number;
    rounds?: number;
    kernelThreads?: number;
    python?: string;
    pytorch: boolean;
    out: string;
    progress: boolean;
  }>();
  return {
    ...(o.quick ? { quick: true } : {}),
    ...(o.targets ? { targets: true } : {}),
    ...(o.backend ? { backends: o.backend } : {}),
    ...(o.batch ? { batches: o.batch } : {}),
    ...(o.filter ? { filter: new RegExp(o.filter) } : {}),
    ...(o.maxTime ? { maxTime: o.maxTime } : {}),
    ...(o.samples ? { isSamples: o.samples } : {}),
    ...(o.rounds ? { rounds: o.rounds } : {}),
    ...(o.kernelThreads ? { kernelThreads: o.kernelThreads } : {}),
    python: o.pytorch ? (o.python ?? DEFAULT_PYTHON) : false,
    out: resolve(o.out),
    ...(o.progress ? {} : { progress: false }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  Promise.resolve()
    .then(() => runSpeedBench(parseOptions(process.argv.slice(2))))
    .then((r) => {
      process.exitCode = r.checks.every((c) => c.ok) ? 0 : 1;
    })
    .catch((e: unknown) => {
      process.stderr.write(`speed: ${(e as Error).message}\n`);
      process.exitCode = 2;
    });
}
