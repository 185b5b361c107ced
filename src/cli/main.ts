/**
 * The `vaekit` command. `runCli(argv, io)` never throws and never exits: it returns the exit
 * code (0 ok, 1 failure, 2 usage), printing one clear message for an error (the stack only
 * with VAEKIT_DEBUG=1). bin/vaekit.js registers the built-in plugins, calls it and exits.
 */
import { Command, CommanderError, Option } from 'commander';
import { BENCHES, benchCommand, type BenchName } from './bench-command.js';
import { evalCommand, reconstructCommand, sampleCommand, workersOption } from './model-commands.js';
import { pluginsCommand } from './plugins-command.js';
import { posteriorCommand } from './posterior-command.js';
import { CliError, collect, messageOf, nonNegativeInt, positiveInt, positiveNumber, processIo, renamedOption, UsageError, type CliIo } from './support.js';
import { trainCommand } from './train-command.js';
import { packageVersion } from './version.js';
import { overrideOptions } from './config-overrides.js';
import { ConfigError } from '../config/errors.js';

const EXAMPLES = `
Examples:
  vaekit train --config configs/mnist-gaussian-bernoulli.json --out runs/first
  vaekit eval --model runs/first --samples 1000
  vaekit sample --model runs/first --n 64 --png samples.png
  vaekit reconstruct --model runs/first --n 16 --png recon.png
  vaekit train --config configs/mnist-gaussian-bernoulli.json --out runs/first --resume --epochs 20
  vaekit plugins --plugin ./my-plugin.js
  vaekit bench tightness --quick

Exit codes: 0 success, 1 failure (the message says why), 2 bad command line.
Environment: VAEKIT_BACKEND=tensorflow|wasm|cpu forces a backend; VAEKIT_DEBUG=1 prints stacks.`;

const pluginOption = () =>
  new Option('--plugin <module>', 'load a user plugin module (default export: an inversify ContainerModule); repeatable').argParser(collect).default([]);
const backendOption = () => new Option('--backend <name>', 'tfjs backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']);
const quietOption = () => new Option('--quiet', 'no progress output');
const usePreviousOption = () => new Option('--use-previous', 'when the last save\'s files were edited or damaged after it was written, use the previous save');

function program(io: CliIo, run: (p: Promise<number>) => void): Command {
  const root = new Command('vaekit')
    .description('Variational autoencoders with swappable encoders, priors and likelihoods: train, evaluate how tight the bound is, draw samples.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXAMPLES)
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (s, write) => write(`vaekit: ${s.replace(/^error: /, '')}`) })
    .exitOverride();

  const overrides = overrideOptions();
  root
    .command('train')
    .description('train a model from a JSON config, checkpointing every epoch into a run directory')
    .option('--config <file>', 'the run config (JSON: { model, data, train, eval }); see configs/')
    .option('--out <dir>', 'run directory (default: runs/<config name>)')
    .option('--resume', 'continue the run in --out from its last checkpoint (same result as an uninterrupted run)')
    .option('--force', 'overwrite the run files in an existing --out')
    .option('--epochs <n>', 'override train.epochs (e.g. to train a finished run further with --resume)', positiveInt('--epochs'))
    .option('--learning-rate <rate>', 'override train.learningRate (also with --resume, e.g. to go on at a lower rate after a non-finite loss)', positiveNumber('--learning-rate'))
    .addOption(usePreviousOption())
    .addOption(overrides[0]!)
    .addOption(overrides[1]!)
    .addOption(overrides[2]!)
    .addOption(pluginOption())
    .addOption(backendOption())
    .addOption(quietOption())
    .addHelpText(
      'after',
      `
Writes into the run directory: config.json, model.json + weights.bin (a saved model: the last
checkpoint, loadable with --model or loadVae), optimizer.bin, history.json (+ history.csv) and bound.png.
Each checkpoint is written atomically; an interrupted run continues with --resume.`,
    )
    .action((o) => {
      // A missing required flag is a usage error (exit 2), as commander reports --model for the other commands.
      if (!o.config && !o.resume) throw new UsageError("train: required option '--config <file>' not specified (or --resume with --out <run directory>)");
      run(trainCommand(o, io));
    });

  root
    .command('eval')
    .description('bound report of a saved model: ELBO, IWAE_K, log p̂(x) and the gap log p̂(x) − ELBO')
    .requiredOption('--model <dir>', 'saved model or run directory')
    .option('--samples <K>', 'importance samples per row for log p̂(x) (default: eval.samples of the config)', positiveInt('--samples'))
    .option('--elbo-samples <S>', 'samples per row for the ELBO (default: eval.elboSamples)', positiveInt('--elbo-samples'))
    .addOption(renamedOption('--ll-samples <K>', '--samples'))
    .addOption(renamedOption('--k <K>', '--samples'))
    .option('--data <set>', 'mnist | fashion-mnist | linear-gaussian (test split), a folder of IDX files, or one IDX file of rows (default: the config\'s test split)')
    .option('--rows <n>', 'evaluate the first n rows only (default: data.testLimit, else 1000)', positiveInt('--rows'))
    .option('--seed <n>', 'seed of the importance samples', nonNegativeInt('--seed'))
    .option('--workers <n>', 'worker threads the rows are split over: a number or auto (one per core on wasm/cpu, started once the rest would take over 10 s on this thread when its kernels already use every core; 1 on tensorflow, which threads its own kernels)', workersOption)
    .option('--json', 'print the report as JSON')
    .addOption(pluginOption())
    .addOption(backendOption())
    .addOption(quietOption())
    .addOption(usePreviousOption())
    .action((o) => run(evalCommand(o, io)));

  root
    .command('sample')
    .description('draw z ~ p(z), decode, and write the images as a PNG grid')
    .requiredOption('--model <dir>', 'saved model or run directory')
    .requiredOption('--png <file>', 'where to write the grid')
    .option('--n <n>', 'number of samples', positiveInt('--n'), 64)
    .option('--seed <n>', 'seed of the draws', nonNegativeInt('--seed'))
    .option('--draw', 'show draws x ~ p(x|z) instead of the means E[x|z]')
    .addOption(pluginOption())
    .addOption(backendOption())
    .addOption(quietOption())
    .addOption(usePreviousOption())
    .action((o) => run(sampleCommand(o, io)));

  root
    .command('reconstruct')
    .description('write inputs beside their reconstructions as a PNG grid')
    .requiredOption('--model <dir>', 'saved model or run directory')
    .requiredOption('--png <file>', 'where to write the grid')
    .option('--n <n>', 'number of inputs (the first rows of the data)', positiveInt('--n'), 16)
    .option('--data <set>', 'as for eval (default: the config\'s test split)')
    .addOption(pluginOption())
    .addOption(backendOption())
    .addOption(quietOption())
    .addOption(usePreviousOption())
    .action((o, cmd: Command) => run(reconstructCommand({ ...o, nIsDefault: cmd.getOptionValueSource('n') === 'default' }, io)));

  root
    .command('posterior')
    .description('picture the true posterior p(z|x) on a grid beside the encoder\'s q(z|x) and its samples, for chosen rows')
    .requiredOption('--model <dir>', 'saved model or run directory')
    .requiredOption('--rows <list>', 'data rows, e.g. 0,5,9')
    .requiredOption('--png <file>', 'where to write the picture')
    .option('--dims <i,j>', 'the two latent coordinates shown (default 0,1; the others at the encoder\'s mean)')
    .option('--grid <n>', 'grid points per axis (default 121)', positiveInt('--grid'))
    .option('--samples <K>', 'importance samples for each row\'s log p̂(x) (default 5000)', positiveInt('--samples'))
    .addOption(renamedOption('--ll-samples <K>', '--samples'))
    .addOption(renamedOption('--k <K>', '--samples'))
    .option('--data <set>', 'as for eval (default: the config\'s test split)')
    .option('--seed <n>', 'seed of the samples', positiveInt('--seed'))
    .addOption(pluginOption())
    .addOption(backendOption())
    .addOption(quietOption())
    .action((o) => run(posteriorCommand(o, io)));

  root
    .command('plugins')
    .description('list every registered plugin by role, with its options and defaults')
    .option('--json', 'print the list as JSON')
    .addOption(pluginOption())
    .action((o) => run(pluginsCommand(o, io)));

  const bench = root.command('bench').description('run a benchmark script (bench/<name>.ts)');
  const benchHelp: Record<BenchName, string> = {
    tightness: 'how tight is each encoder\'s bound: trains each plugin combination and tabulates ELBO, IWAE_K, log p̂(x), gaps (Markdown, JSON, PNG)',
    speed: 'training and evaluation speed per backend and encoder (benchmark.js)',
  };
  for (const name of BENCHES) {
    const c = bench
      .command(name)
      .description(benchHelp[name])
      .allowUnknownOption()
      .allowExcessArguments()
      .helpOption(false)
      .argument('[options...]', 'passed to the script (e.g. --quick, --config combos.json); `--help` shows the script\'s own options');
    if (name === 'tightness') c.addHelpText('after', '\n  vaekit bench tightness --quick [--config combos.json] [--plugin ./my-plugin.ts]');
    c.action((_rest: string[], _opts: unknown, cmd: Command) => run(benchCommand(name, cmd.args, io)));
  }
  return root;
}

function errorExit(e: unknown, io: CliIo): number {
  if (e instanceof UsageError) {
    io.err(`vaekit: ${e.message}\n`);
    return 2;
  }
  const msg = messageOf(e);
  io.err(`vaekit: ${msg}\n`);
  if (process.env.VAEKIT_DEBUG === '1' && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
  else if (!(e instanceof CliError) && !(e instanceof ConfigError) && e instanceof Error && /^(TypeError|ReferenceError|RangeError)$/.test(e.name)) {
    io.err('(an internal error: run with VAEKIT_DEBUG=1 to see where, and report it)\n');
  }
  return 1;
}

/** Runs the command line `argv` (without `node vaekit`); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let pending: Promise<number> | null = null;
  const cmd = program(io, (p) => {
    pending = p;
  });
  if (argv.length === 0) {
    io.err(cmd.helpInformation());
    return 2;
  }
  try {
    await cmd.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; anything else commander reports (unknown option, missing
      // value, unknown command, a group without its subcommand) is a usage error, already printed.
      return e.exitCode === 0 ? 0 : 2;
    }
    return errorExit(e, io);
  }
  if (!pending) {
    // A command group without a subcommand (`vaekit bench`): its help, as a usage error.
    return 2;
  }
  try {
    return await pending;
  } catch (e) {
    return errorExit(e, io);
  }
}
