/**
 * Same-budget parity with PyTorch: vaekit's Gaussian VAE and the project's PyTorch reference
 * (bench/pytorch/vae_reference.py) — the same 784-200-200-50 tanh model, Bernoulli decoder, ELBO
 * with one sample, Adam, batch 100, dynamic binarisation — trained for the same seeds and
 * evaluated on the same fixed binarised test rows (vaekit's static draw with seed 0, written as
 * an IDX file the reference reads with --binarized-test): test ELBO and IWAE_K = log p̂(x).
 * The two sides run one after the other, one thread each; every run is saved as
 * <out>/<side>-<init>-seed<s>.json, and a rerun skips the runs already there (so it resumes).
 *
 *   tsx bench/parity.ts                              # 10 epochs × 60,000 rows, 3 seeds, glorot; all 10,000 test rows
 *   tsx bench/parity.ts --inits glorot,pytorch --test-rows 2000
 *   tsx bench/parity.ts --side pytorch               # one side only; --report-only to rebuild the table
 *
 * Writes <out>/parity.md and parity.json. Needs Debian's PyTorch for the PyTorch side
 * (`apt-get install python3-torch libopenblas0-pthread`, or --python <interpreter>).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { selectBackend } from '../plugins/index.js';
import { loadMnist } from '../src/data/mnist.js';
import { takeRows } from '../src/data/batches.js';
import { writeBinarizedIdx } from './parity/test-rows.js';
import { runVaekit } from './parity/vaekit-side.js';
import { fromReference, runPytorch } from './parity/pytorch-side.js';
import { formatParity, parityGroups, parityComparisons } from './parity/parity-report.js';
import type { Init, ParityRun, ParitySettings, Side } from './parity/types.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer; got ${JSON.stringify(v)}`);
  return n;
};

const list = <T extends string>(name: string, choices: readonly T[]) => (v: string) => {
  const out = v.split(',').map((s) => s.trim());
  for (const s of out) if (!choices.includes(s as T)) throw new Error(`--${name}: expected a comma-separated list of ${choices.join(', ')}; got ${JSON.stringify(s)}`);
  return out as T[];
};

const program = new Command('parity')
  .description('vaekit vs the PyTorch reference at the same budget, evaluated on the same test rows')
  .addOption(new Option('--side <side>', 'which side to run').choices(['both', 'vaekit', 'pytorch']).default('both'))
  .option('--inits <list>', 'weight initialisations to run on both sides: glorot, pytorch', list('inits', ['glorot', 'pytorch'] as const), ['glorot'] as Init[])
  .option('--seeds <n>', 'seeds 1 … n per side and init', int('seeds'), 3)
  .option('--epochs <n>', 'training epochs', int('epochs'), 10)
  .option('--train-rows <n>', 'training rows (the first N of the training split)', int('train-rows'), 60000)
  .option('--test-rows <n>', 'evaluation rows (the first N of the test split, one fixed binarisation)', int('test-rows'), 10000)
  .option('--samples <k>', 'K of IWAE_K = log p̂(x)', int('samples'), 1000)
  .option('--elbo-samples <s>', 'ELBO draws per test row', int('elbo-samples'), 10)
  .option('--python <path>', 'Python interpreter with torch', '/usr/bin/python3')
  .option('--backend <name>', "vaekit's tfjs backend", 'auto')
  .option('--report-only', 'only rebuild parity.md/json from the runs in --out')
  .option('--out <dir>', 'where runs and the report go', 'runs/parity');

interface Options {
  side: 'both' | Side;
  inits: Init[];
  seeds: number;
  epochs: number;
  trainRows: number;
  testRows: number;
  samples: number;
  elboSamples: number;
  python: string;
  backend: string;
  reportOnly?: boolean;
  out: string;
}

/** A saved run, or null; refuses one of other settings (a raw reference line is checked by its fields). */
function readRun(path: string, s: ParitySettings): ParityRun | null {
  if (!existsSync(path)) return null;
  const o = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const run = 'side' in o ? (o as unknown as ParityRun) : fromReference(o, s);
  const raw = 'side' in o ? run.settings : { epochs: o.epochs, trainRows: o.trainRows, testRows: o.testRows, samples: o.samples };
  for (const [k, v] of Object.entries(raw)) {
    if (v !== s[k as keyof ParitySettings]) throw new Error(`${path}: ${k} is ${JSON.stringify(v)}, this run asks for ${s[k as keyof ParitySettings]}; use another --out`);
  }
  return run;
}

function save(path: string, run: ParityRun): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(run));
  renameSync(`${path}.tmp`, path);
}

async function main(): Promise<void> {
  const o = program.parse().opts<Options>();
  const s: ParitySettings = { epochs: o.epochs, trainRows: o.trainRows, batchSize: 100, learningRate: 1e-3, testRows: o.testRows, samples: o.samples, elboSamples: o.elboSamples };
  mkdirSync(o.out, { recursive: true });
  const sides: Side[] = o.side === 'both' ? ['pytorch', 'vaekit'] : [o.side];
  const seeds = Array.from({ length: o.seeds }, (_, i) => i + 1);
  const file = (side: Side, init: Init, seed: number) => join(o.out, `${side}-${init}-seed${seed}.json`);

  if (!o.reportOnly) {
    const testSet = takeRows(loadMnist({ split: 'test', limit: s.testRows, binarize: 'static', seed: 0 }), s.testRows);
    const testIdx = join(o.out, `test-rows-${s.testRows}.idx3-ubyte`);
    writeBinarizedIdx(testSet, testIdx);
    let trainSet: ReturnType<typeof loadMnist> | null = null;
    for (const side of sides) {
      for (const init of o.inits) {
        for (const seed of seeds) {
          const path = file(side, init, seed);
          if (readRun(path, s)) continue;
          const t0 = Date.now();
          process.stderr.write(`parity: ${side} · ${init} · seed ${seed} …\n`);
          let run: ParityRun;
          if (side === 'pytorch') {
            run = runPytorch(s, init, seed, testIdx, o.python);
          } else {
            if (!trainSet) {
              await selectBackend(o.backend);
              trainSet = takeRows(loadMnist({ split: 'train', limit: s.trainRows, binarize: 'dynamic' }), s.trainRows);
            }
            run = await runVaekit(s, init, seed, trainSet, testSet, (line) => process.stderr.write(`  ${line}\n`));
          }
          save(path, run);
          process.stderr.write(`parity: ${side} · ${init} · seed ${seed}: ELBO ${run.elbo.toFixed(2)}, IWAE_${s.samples} ${run.logLikelihood.toFixed(2)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
        }
      }
    }
  }

  const runs: ParityRun[] = [];
  for (const side of ['vaekit', 'pytorch'] as const) {
    for (const init of ['glorot', 'pytorch'] as const) {
      for (const seed of seeds) {
        const r = readRun(file(side, init, seed), s);
        if (r) runs.push(r);
      }
    }
  }
  if (!runs.length) throw new Error(`parity: no runs in ${o.out}`);
  const command = `tsx bench/parity.ts ${process.argv.slice(2).join(' ')}`.trim();
  const md = formatParity(runs, command);
  writeFileSync(join(o.out, 'parity.md'), md);
  const groups = parityGroups(runs);
  writeFileSync(
    join(o.out, 'parity.json'),
    JSON.stringify({ settings: s, groups, comparisons: parityComparisons(groups), runs: runs.map(({ perRow: _, ...r }) => r) }, null, 2),
  );
  process.stdout.write(md);
}

main().catch((e: Error) => {
  process.stderr.write(`parity: ${e.message}\n`);
  process.exit(1);
});
