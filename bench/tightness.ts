/**
 * The tightness benchmark: how tight is each encoder's bound?
 *
 * For a list of plugin combinations (default: the gaussian, planar and realnvp encoders for
 * --quick, the hierarchical one too for the other modes, where registered; standard-normal
 * prior; Bernoulli decoder; 784-200-200 / latent-50 tanh networks as in Burda et al. 2015,
 * arXiv:1509.00519), every model is trained with the same
 * budget and seeds on dynamically binarised MNIST and evaluated on a fixed binarisation of the
 * test set: test ELBO, IWAE_K, log p̂(x), gap = log p̂(x) − ELBO and the amortisation gap
 * (Cremer, Li & Duvenaud 2018, arXiv:1801.03558). With `--frozen-decoder`, every encoder is also
 * trained against the baseline's frozen decoder and prior, so all gaps refer to one log p(x).
 * With `--seeds N`, each cell is mean ± sd over N seeds and each encoder's difference from the
 * baseline gets a 95 % t interval. Jobs run in worker processes, one per core.
 *
 *   npm start                                   # = tsx bench/tightness.ts --quick
 *   tsx bench/tightness.ts --quick --seeds 3 --frozen-decoder
 *   tsx bench/tightness.ts --full --seeds 3     # the papers' data sizes; hours
 *   tsx bench/tightness.ts --config combos.json --plugin ./my-plugin.ts
 *   tsx bench/tightness.ts --encoders gaussian --objectives elbo,iwae:10,iwae-dreg:10
 *
 * Writes <out>/tightness.md, tightness.json and tightness.png (default out: runs/tightness, which git
 * ignores; bench/results/examples/ holds a committed run).
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { renderChart } from '../src/plot/chart.js';
import { renamedOption } from '../src/cli/support.js';
import { plural } from '../src/plot/plural.js';
import { buildTable, formatReport, type RunInfo, type TableRecord } from './tightness/report.js';
import { runPool, type PoolJob } from './tightness/pool.js';
import { StatusBoard } from './tightness/display.js';
import { EVAL_SECONDS_PER_ROW_SAMPLE, RunProgress, STEP_SECONDS, formatProgressLine, jobCost, jobFraction, totalCost } from './tightness/progress.js';

export { EVAL_SECONDS_PER_ROW_SAMPLE, STEP_SECONDS };
import { defaultCombos, loadCombos, registeredEncoders } from './tightness/combos.js';
import { mergeShards, parseShard, shardFiles, shardSeeds, type ShardFile } from './tightness/shard.js';
import type { Combo, Job, JobResult, Settings } from './tightness/types.js';
import { combosByObjective, parseObjectives } from './tightness/objectives.js';

/**
 * Burda, Grosse & Salakhutdinov 2015 (arXiv:1509.00519, §5): 3^i passes over the data at learning
 * rate 0.001·10^(−i/7) for i = 0 … 7, Σ 3^i = 3,280 epochs.
 */
export const PAPER_SCHEDULE: { epochs: number; learningRate: number }[] = Array.from({ length: 8 }, (_, i) => ({
  epochs: 3 ** i,
  learningRate: 1e-3 * 10 ** (-i / 7),
}));

/** Published rows printed beside the presets' tables (only values confirmed from the paper). */
export const REFERENCES: string[] = [
  'Burda, Grosse & Salakhutdinov 2015 (arXiv:1509.00519), Table 1, MNIST, VAE with one stochastic layer (784-200-200-50 tanh, as here), trained with k = 1 (the ELBO): ' +
    'test NLL −log p(x) ≈ 86.76 nats (log p̂(x) = −86.76, estimated with k = 5000), after 3,280 epochs of 60,000 rows (the `--paper` schedule), dynamic binarisation.',
];

type Mode = Omit<Settings, 'backend' | 'data' | 'iwaeSamples'> & {
  seeds: number;
  frozen: boolean;
  /** The encoders run without --encoders (all default encoders when absent). */
  encoders?: string[];
};
const FULL_EVAL = {
  testRows: 10000,
  testBinarizeSeed: 0,
  batchSize: 100,
  learningRate: 1e-3,
  objective: { type: 'elbo' as const, samples: 1 },
  elboSamples: 100,
  llSamples: 5000,
  evalBatchSize: 100,
  chunk: 100,
  amortRows: 1000,
  amortSteps: 500,
  amortLearningRate: 1e-2,
  amortSamples: 10,
  amortEvalSamples: 100,
  seeds: 3,
  frozen: true,
};

/** Defaults of the modes; every one can be overridden by its flag. */
export const MODES: Record<'quick' | 'full' | 'standard' | 'paper', Mode> = {
  /** All 60,000 training rows, all 10,000 test rows (one fixed binarisation), IWAE and log p̂ with K = 5000. */
  standard: { ...FULL_EVAL, trainRows: 60000, epochs: 100, k: 5000 },
  /** `standard` with Burda et al. 2015's 3,280-epoch learning-rate schedule. */
  paper: {
    ...FULL_EVAL,
    trainRows: 60000,
    epochs: PAPER_SCHEDULE.reduce((a, p) => a + p.epochs, 0),
    learningRate: PAPER_SCHEDULE[0]!.learningRate,
    schedule: PAPER_SCHEDULE,
    k: 5000,
  },
  /**
   * `npm start`: the budget at which both flows' frozen-decoder Δ gap intervals exclude zero
   * (README, "The main job"; test/bench/tightness-readme.test.ts checks the README states these).
   */
  quick: {
    trainRows: 3000,
    testRows: 200,
    testBinarizeSeed: 0,
    epochs: 6,
    batchSize: 100,
    learningRate: 1e-3,
    objective: { type: 'elbo', samples: 1 },
    elboSamples: 10,
    k: 100,
    llSamples: 500,
    evalBatchSize: 100,
    chunk: 100,
    amortRows: 50,
    amortSteps: 30,
    amortLearningRate: 1e-2,
    amortSamples: 5,
    amortEvalSamples: 20,
    seeds: 6,
    frozen: true,
    encoders: ['gaussian', 'planar', 'realnvp'],
  },
  /** All 60,000 training rows and 10,000 test rows, IWAE_100 and log p̂ with K = 5000. */
  full: { ...FULL_EVAL, trainRows: 60000, epochs: 100, k: 100 },
};

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer; got ${JSON.stringify(v)}`);
  return n;
};
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`--${name}: expected a positive number; got ${JSON.stringify(v)}`);
  return n;
};

export function program(): Command {
  return new Command('tightness')
    .description('Train each encoder with the same budget and seeds; report test ELBO, IWAE_K, log p̂(x), gap and amortisation gap (co-trained and frozen-decoder tables).')
    .option('--quick', 'the default (npm start): gaussian, planar, realnvp; 3000 rows × 6 epochs, 6 seeds, 200 test rows, IWAE_100, K=500, frozen-decoder table; ≈ 2 min on 2 idle cores')
    .option('--standard', 'all 60000 training rows, 100 epochs, all 10000 test rows (fixed binarisation), IWAE_5000 and log p̂ with K=5000; prints the expected wall time first')
    .option('--paper', 'as --standard with Burda et al. 2015\'s schedule: 3^i epochs at lr 1e-3·10^(−i/7), i = 0…7 (3280 epochs); prints the expected wall time first')
    .option('--full', 'the papers\' data sizes: 60000 training / 10000 test rows, 100 epochs, log p̂ with K=5000 (Burda et al. trained 3280 epochs: pass --epochs 3280 for that)')
    .option('--encoders <names>', 'comma-separated encoders from the default list (gaussian, planar, realnvp, hierarchical) or any registered encoder type (default: gaussian, planar, realnvp for --quick; all four otherwise)')
    .option('--config <file>', 'a JSON list of combinations: [{ "name": "…", "model": { latentDim, encoder, prior, likelihood } }] or bare model sections')
    .option('--plugin <path...>', 'module(s) default-exporting an inversify ContainerModule with user plugins (used with --config)')
    .option('--baseline <name>', 'the combination differences are taken from, and whose decoder is frozen (default: gaussian, else the first)')
    .addOption(new Option('--data <name>', 'training and test data').choices(['mnist', 'fashion-mnist']).default('mnist'))
    .option('--epochs <n>', 'training epochs', int('epochs'))
    .option('--train-rows <n>', 'training rows (the first N of the training split)', int('train-rows'))
    .option('--test-rows <n>', 'evaluation rows (the first N of the test split)', int('test-rows'))
    .option('--test-binarize-seed <n>', 'seed of the one fixed binarisation of the test rows', int('test-binarize-seed'))
    .option('--batch-size <n>', 'training batch size', int('batch-size'))
    .option('--learning-rate <lr>', 'Adam learning rate', positive('learning-rate'))
    .addOption(new Option('--objective <type>', 'training objective').choices(['elbo', 'iwae']))
    .option('--objectives <list>', 'train every encoder with each objective: <type>[-<gradient>][:<K>], e.g. elbo,iwae:10,iwae-dreg:10')
    .option('--train-samples <k>', 'samples per row of the training objective (IWAE_k when --objective iwae)', int('train-samples'))
    .option('--iwae-samples <K>', 'the K of the IWAE_K column', int('iwae-samples'))
    .option('--samples <K>', 'importance samples of log p̂(x)', int('samples'))
    .addOption(renamedOption('--k <K>', '--iwae-samples'))
    .addOption(renamedOption('--ll-samples <K>', '--samples'))
    .option('--elbo-samples <s>', 'samples per row of the test ELBO', int('elbo-samples'))
    .option('--amort-rows <n>', 'test rows of the amortisation gap (λ optimised per row)', int('amort-rows'))
    .option('--amort-steps <n>', 'Adam steps on λ per row', int('amort-steps'))
    .option('--seeds <n>', 'seeds per combination (seeds seed … seed+n−1)', int('seeds'))
    .option('--seed <s>', 'first seed', int('seed'), 1)
    .option('--frozen-decoder [path]', 'also train every encoder against a frozen decoder + prior: the baseline\'s (per seed), or a saved model directory')
    .option('--no-frozen-decoder', 'skip the frozen-decoder table')
    .option('--workers <n>', 'worker processes (default: one per core)', int('workers'))
    .option('--backend <name>', 'tfjs backend of the workers: auto, tensorflow, wasm, cpu', 'auto')
    .option('--shard <i/n>', 'run only the seeds at positions j ≡ i (mod n) of the seed list (0 ≤ i < n; each seed\'s baseline before its frozen runs) and write their per-seed results to <out>/<name>.shard-<i>-of-<n>.json')
    .option('--merge <dir...>', 'assemble tables, intervals and chart from shard files (directories or files) of one run; refuses shards of different settings')
    .option('--quiet', 'no progress output on stderr (no bar, no per-job lines); the tables still go to stdout')
    .option('--out <dir>', 'where tightness.md, .json and .png go', 'runs/tightness')
    .option('--name <base>', 'file name base of the outputs', 'tightness');
}

interface Options {
  quick?: boolean;
  full?: boolean;
  standard?: boolean;
  paper?: boolean;
  encoders?: string;
  config?: string;
  plugin?: string[];
  baseline?: string;
  data: 'mnist' | 'fashion-mnist';
  epochs?: number;
  trainRows?: number;
  testRows?: number;
  testBinarizeSeed?: number;
  batchSize?: number;
  learningRate?: number;
  objective?: 'elbo' | 'iwae';
  objectives?: string;
  trainSamples?: number;
  iwaeSamples?: number;
  samples?: number;
  elboSamples?: number;
  amortRows?: number;
  amortSteps?: number;
  seeds?: number;
  seed: number;
  frozenDecoder?: boolean | string;
  shard?: string;
  merge?: string[];
  workers?: number;
  backend: string;
  quiet?: boolean;
  out: string;
  name: string;
}

/** The K ladder of the JSON: 1, 10, 100, … up to log p̂'s K, plus the table's K. */
export function iwaeLadder(k: number, llSamples: number): number[] {
  const ks = new Set<number>([k]);
  for (const v of [1, 10, 100, 1000, 5000]) if (v <= llSamples) ks.add(v);
  return [...ks].sort((a, b) => a - b);
}

export async function main(argv: string[]): Promise<{ tables: TableRecord[]; files: string[] }> {
  const opts = program().parse(argv, { from: 'user' }).opts<Options>();
  const chosen = (['quick', 'full', 'standard', 'paper'] as const).filter((m) => opts[m]);
  if (chosen.length > 1) throw new Error(`--${chosen.join(' and --')}: choose one mode`);
  if (opts.merge) return merge(opts, argv);
  const shard = opts.shard === undefined ? null : parseShard(opts.shard);
  const modeName = chosen[0] ?? 'quick';
  const mode = MODES[modeName];
  if (mode.schedule && (opts.epochs !== undefined || opts.learningRate !== undefined)) {
    throw new Error(`--${modeName}: its learning-rate schedule fixes the epochs and rates; got --epochs/--learning-rate too`);
  }
  const settings: Settings = {
    data: opts.data,
    trainRows: opts.trainRows ?? mode.trainRows,
    testRows: opts.testRows ?? mode.testRows,
    testBinarizeSeed: opts.testBinarizeSeed ?? mode.testBinarizeSeed,
    epochs: opts.epochs ?? mode.epochs,
    batchSize: opts.batchSize ?? mode.batchSize,
    learningRate: opts.learningRate ?? mode.learningRate,
    ...(mode.schedule ? { schedule: mode.schedule } : {}),
    objective: { type: opts.objective ?? mode.objective.type, samples: opts.trainSamples ?? mode.objective.samples },
    elboSamples: opts.elboSamples ?? mode.elboSamples,
    k: opts.iwaeSamples ?? mode.k,
    llSamples: opts.samples ?? mode.llSamples,
    iwaeSamples: [],
    evalBatchSize: mode.evalBatchSize,
    chunk: mode.chunk,
    amortRows: opts.amortRows ?? mode.amortRows,
    amortSteps: opts.amortSteps ?? mode.amortSteps,
    amortLearningRate: mode.amortLearningRate,
    amortSamples: mode.amortSamples,
    amortEvalSamples: mode.amortEvalSamples,
    backend: opts.backend,
  };
  for (const [f, v] of [['train-rows', settings.trainRows], ['test-rows', settings.testRows], ['iwae-samples', settings.k], ['samples', settings.llSamples], ['elbo-samples', settings.elboSamples]] as const) {
    if (v < 1) throw new Error(`--${f}: expected a positive integer; got ${v}`);
  }
  settings.iwaeSamples = iwaeLadder(settings.k, settings.llSamples);
  const nSeeds = opts.seeds ?? mode.seeds;
  if (nSeeds < 1) throw new Error(`--seeds: expected a positive integer; got ${nSeeds}`);
  const allSeeds = Array.from({ length: nSeeds }, (_, i) => opts.seed + i);
  const seeds = shard ? shardSeeds(allSeeds, shard.index, shard.count) : allSeeds;
  const frozen = opts.frozenDecoder === undefined ? mode.frozen : opts.frozenDecoder !== false;
  const frozenPath = typeof opts.frozenDecoder === 'string' ? resolve(opts.frozenDecoder) : null;
  const plugins = (opts.plugin ?? []).map((p) => resolve(p));

  let combos: Combo[];
  if (opts.config) {
    combos = loadCombos(JSON.parse(readFileSync(opts.config, 'utf8')) as unknown, opts.config);
  } else {
    const available = await registeredEncoders(plugins);
    combos = defaultCombos(opts.encoders?.split(',').map((s) => s.trim()).filter(Boolean) ?? mode.encoders, available);
  }
  if (opts.objectives) combos = combosByObjective(combos, parseObjectives(opts.objectives));
  const baseline = opts.baseline ?? (combos.some((c) => c.name === 'gaussian') ? 'gaussian' : combos[0]!.name);
  if (!combos.some((c) => c.name === baseline)) throw new Error(`--baseline: no combination named "${baseline}"; have ${combos.map((c) => c.name).join(', ')}`);

  const work = mkdtempSync(join(tmpdir(), 'vaekit-tightness-'));
  const jobId = jobIdOf;
  const decoderFile = (seed: number) => join(work, `decoder-seed-${seed}.json`);
  const jobs: PoolJob[] = [];
  // Baseline first (its decoder unblocks the frozen jobs), then the other co-trained models, then frozen ones.
  const ordered = [combos.find((c) => c.name === baseline)!, ...combos.filter((c) => c.name !== baseline)];
  for (const c of ordered) {
    for (const s of seeds) {
      const job: Job = { id: jobId('co-trained', c.name, s), mode: 'co-trained', combo: c, seed: s, settings, plugins };
      if (frozen && !frozenPath && c.name === baseline) job.saveDecoderTo = decoderFile(s);
      jobs.push({ job });
    }
  }
  if (frozen) {
    for (const s of seeds) {
      for (const c of ordered) {
        const job: Job = {
          id: jobId('frozen', c.name, s),
          mode: 'frozen',
          combo: c,
          seed: s,
          settings,
          plugins,
          frozenFrom: frozenPath ? { kind: 'saved-model', path: frozenPath } : { kind: 'parts', path: decoderFile(s) },
        };
        jobs.push(frozenPath ? { job } : { job, after: [jobId('co-trained', baseline, s)] });
      }
    }
  }
  // Interleave: once a seed's baseline is done its frozen jobs may start, so workers stay busy.
  const workers = Math.max(1, opts.workers ?? availableParallelism());
  if (modeName === 'standard' || modeName === 'paper') {
    const est = estimateWallSeconds(settings, combos.length, seeds.length, frozen, Math.min(workers, jobs.length));
    process.stdout.write(`tightness --${modeName}: ${jobs.length} jobs; expected wall time ≈ ${formatDuration(est)} on ${Math.min(workers, jobs.length)} idle core(s) (${ESTIMATE_NOTE})\n`);
  }
  const quiet = opts.quiet === true || process.env.VAEKIT_QUIET === '1';
  const board = new StatusBoard(Math.min(workers, jobs.length), jobs.length, process.stderr, { quiet });
  const t0 = Date.now();
  const cost = jobCost(settings);
  const progress = new RunProgress(jobs.length);
  let jobsDone = 0;
  const showProgress = () => {
    const elapsed = (Date.now() - t0) / 1000;
    board.progress(formatProgressLine(progress.fraction(), jobsDone, jobs.length, elapsed, progress.remainingSeconds(elapsed)));
  };
  // The bar's clock moves between status messages too.
  const ticker = setInterval(showProgress, 1000);
  ticker.unref();
  let outcome;
  try {
    outcome = await runPool(jobs, workers, {
      onReady: (w, backend) => board.set(w, `ready (${backend} backend)`),
      onStart: (w, job) => board.set(w, `${job.id}: starting`),
      onStatus: (w, job, text, stage) => {
        if (stage) progress.set(job.id, jobFraction(cost, stage));
        board.set(w, `${job.id}: ${text}`, !text.startsWith('eval bounds'));
        showProgress();
      },
      onDone: (w, job, r) => {
        jobsDone++;
        progress.set(job.id, 1);
        board.done(`${job.id}: ELBO ${r.elbo.mean.toFixed(2)}, log p̂ ${r.logLikelihood.mean.toFixed(2)}, ${(r.trainSeconds + r.evalSeconds).toFixed(0)} s`);
        board.set(w, 'idle');
        showProgress();
      },
      onError: (w, job, message) => {
        jobsDone++;
        progress.set(job.id, 1);
        board.done(`${job.id}: FAILED ${message.split('\n')[0]}`);
        board.set(w, 'idle');
      },
    }, { TIGHTNESS_BACKEND: opts.backend, ...(quiet ? { VAEKIT_QUIET: '1' } : {}) });
  } finally {
    clearInterval(ticker);
    board.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const wallSeconds = (Date.now() - t0) / 1000;
  const backend = [...new Set(outcome.backends.filter(Boolean))].join('/') || opts.backend;
  const command = `tsx bench/tightness.ts ${argv.join(' ')}`.trim();
  const nWorkers = Math.min(workers, jobs.length);
  if (shard) {
    const record: ShardFile = {
      benchmark: 'tightness-shard',
      format: 1,
      settings,
      combos,
      baseline,
      frozen: frozen ? (frozenPath ?? 'baseline') : null,
      seeds: allSeeds,
      shards: shard.count,
      plugins,
      shard: shard.index,
      shardSeeds: seeds,
      command,
      backend,
      workers: nWorkers,
      wallSeconds,
      results: [...outcome.results.values()],
      errors: Object.fromEntries(outcome.errors),
    };
    mkdirSync(opts.out, { recursive: true });
    const file = join(opts.out, `${opts.name}.shard-${shard.index}-of-${shard.count}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(record) + '\n');
    renameSync(`${file}.tmp`, file);
    process.stdout.write(`\nshard ${shard.index}/${shard.count}: seeds ${seeds.join(', ') || '(none)'}; wrote ${file}\n`);
    return { tables: [], files: [file] };
  }
  return report(opts, {
    settings,
    combos,
    baseline,
    frozenPath: frozen ? frozenPath ?? 'baseline' : null,
    seeds,
    results: outcome.results,
    errors: outcome.errors,
    info: { settings, seeds, workers: nWorkers, backend, wallSeconds, dataLabel: dataLabelOf(settings), command },
  });
}

const ESTIMATE_NOTE = `estimated as jobs × (steps × ${(STEP_SECONDS * 1000).toFixed(1)} ms + test rows × samples × ${(EVAL_SECONDS_PER_ROW_SAMPLE * 1e6).toFixed(1)} µs) / workers, per-step and per-sample costs measured in the committed --quick run`;

/** Expected wall time of a run: the per-job training steps and evaluation samples times the measured unit costs (jobCost), over the workers. */
export function estimateWallSeconds(s: Settings, combos: number, seeds: number, frozen: boolean, workers: number): number {
  const jobs = combos * seeds * (frozen ? 2 : 1);
  return (jobs * totalCost(jobCost(s))) / Math.max(1, workers);
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(0)} min`;
  if (seconds < 2 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

const dataLabelOf = (s: Settings) => (s.data === 'mnist' ? 'MNIST' : 'Fashion-MNIST');
const jobIdOf = (kind: 'co-trained' | 'frozen', name: string, seed: number) => `${kind}:${name}:${seed}`;

/** `--merge`: the tables of a set of shards (one run's settings), written like a single run's. */
function merge(opts: Options, argv: string[]): ReturnType<typeof report> {
  const files = shardFiles(opts.merge!);
  const m = mergeShards(files);
  const backend = [...new Set(m.shards.map((s) => s.backend))].join('/');
  return report(opts, {
    settings: m.key.settings,
    combos: m.key.combos,
    baseline: m.key.baseline,
    frozenPath: m.key.frozen,
    seeds: m.seeds,
    results: m.results,
    errors: m.errors,
    info: {
      settings: m.key.settings,
      seeds: m.seeds,
      workers: m.shards.reduce((a, s) => a + s.workers, 0),
      backend,
      // Shards run side by side: the run took as long as its slowest shard.
      wallSeconds: Math.max(...m.shards.map((s) => s.wallSeconds)),
      dataLabel: dataLabelOf(m.key.settings),
      command: `tsx bench/tightness.ts ${argv.join(' ')} (shards: ${m.shards.map((s) => s.command).join(' | ')})`,
    },
  });
}

interface ReportInput {
  settings: Settings;
  combos: Combo[];
  baseline: string;
  frozenPath: null | 'baseline' | string;
  seeds: number[];
  results: ReadonlyMap<string, JobResult>;
  errors: ReadonlyMap<string, string>;
  info: RunInfo;
}

/** Builds the tables from per-seed results and writes <out>/<name>.md, .json and .png. */
async function report(opts: Options, r: ReportInput): Promise<{ tables: TableRecord[]; files: string[] }> {
  const { settings, combos, baseline, seeds, info } = r;
  const backend = info.backend;
  const wallSeconds = info.wallSeconds;
  const outcome = { results: r.results, errors: r.errors };
  const frozen = r.frozenPath !== null;
  const frozenPath = r.frozenPath === 'baseline' ? null : r.frozenPath;
  const jobId = jobIdOf;
  const tables: TableRecord[] = [buildTable('co-trained', combos, seeds, outcome.results, outcome.errors, jobId, settings, baseline)];
  if (frozen) {
    const source = (s: number) => (frozenPath ? `saved model ${frozenPath}` : `the co-trained ${baseline} model of seed ${s}`);
    tables.push(buildTable('frozen', combos, seeds, outcome.results, outcome.errors, jobId, settings, baseline, source));
  }

  if (settings.data === 'mnist' && settings.trainRows === 60000 && settings.testRows === 10000) info.references = REFERENCES;
  const md = formatReport(tables, info);
  mkdirSync(opts.out, { recursive: true });
  const base = join(opts.out, opts.name);
  const files = [`${base}.md`, `${base}.json`];
  writeFileSync(`${base}.md`, md);
  const json = {
    benchmark: 'tightness',
    format: 1,
    createdAt: new Date().toISOString(),
    command: info.command,
    data: settings.data,
    settings,
    seeds,
    baseline,
    backend,
    workers: info.workers,
    wallSeconds,
    combos,
    tables,
    errors: Object.fromEntries(outcome.errors),
  };
  writeFileSync(`${base}.json`, JSON.stringify(json, null, 2) + '\n');
  try {
    writeFileSync(`${base}.png`, chart(tables, info));
    files.push(`${base}.png`);
  } catch (e) {
    process.stderr.write(`tightness: could not draw the chart: ${(e as Error).message}\n`);
  }
  process.stdout.write(`\n${md}\nwrote ${files.join(', ')}\n`);
  return { tables, files };
}

/** Bounds per encoder (mean, error bar = sd across seeds or s.e. across rows for one seed), one panel per table stacked. */
export function chart(tables: readonly TableRecord[], info: RunInfo): Buffer {
  const series: { name: string; points: [string, number, number][] }[] = [];
  const add = (t: TableRecord, label: string, pick: (m: TableRecord['models'][number]) => [number, number] | null) => {
    const points: [string, number, number][] = [];
    for (const m of t.models) {
      const v = pick(m);
      if (v && Number.isFinite(v[0])) points.push([m.name, v[0], Number.isFinite(v[1]) ? v[1] : 0]);
    }
    if (points.length) series.push({ name: label, points });
  };
  const err = (m: TableRecord['models'][number], col: 'elbo' | 'iwae' | 'logLikelihood') => {
    const s = m.summary[col];
    if (!s || s.n === 0) return null;
    return [s.mean, s.n > 1 ? s.sd : m.seeds[0]!.stdErr[col]] as [number, number];
  };
  for (const t of tables) {
    const tag = t.kind === 'frozen' ? ' (frozen decoder)' : '';
    add(t, `test ELBO${tag}`, (m) => err(m, 'elbo'));
    add(t, `IWAE_${info.settings.k}${tag}`, (m) => err(m, 'iwae'));
    if (t.kind === 'frozen') {
      // One shared value per seed: drawn once, at the baseline.
      add(t, 'shared log p̂(x) (frozen decoder)', (m) => (m.name === t.baseline ? err(m, 'logLikelihood') : null));
    } else add(t, 'log p̂(x)', (m) => err(m, 'logLikelihood'));
  }
  return renderChart({
    title: `Bounds per encoder (${info.dataLabel}, nats; higher is tighter)`,
    subtitle: `${plural(info.settings.epochs, 'epoch')} × ${plural(info.settings.trainRows, 'row')}; ${plural(info.settings.testRows, 'test row')}; log p̂ K = ${info.settings.llSamples}; ${plural(info.seeds.length, 'seed')}, bars ±${info.seeds.length > 1 ? 'sd' : 's.e.'}`,
    xLabel: 'encoder',
    yLabel: 'nats per data point',
    kind: 'points',
    width: 1000,
    series,
  });
}

const invoked = process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (invoked) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`tightness: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
