import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../plugins/index.js';
import { encodeIdx } from '../../src/data/idx.js';
import { cliIn, snapshot, tinyConfig } from './helpers.js';

// The CLI in-process (runCli returns the exit code; bin/vaekit.js only adds process.exit):
// one test per kind of bad input, each checking the message, the exit code, and that the saved
// run is byte-identical afterwards.
let dir: string;
let run: string;
let saved: Record<string, string>;

const cli = (...argv: string[]) => cliIn(dir, argv);

function writeConfig(name: string, config: unknown): string {
  writeFileSync(join(dir, name), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return name;
}

/** An IDX file of float32 rows. */
function floatIdx(name: string, rows: number, width: number, fill: (i: number) => number): string {
  const data = new Float32Array(rows * width);
  for (let i = 0; i < data.length; i++) data[i] = fill(i);
  writeFileSync(join(dir, name), encodeIdx({ dims: [rows, width], data }));
  return name;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vaekit-bad-'));
  run = join(dir, 'runs/good');
  const r = await cli('train', '--config', writeConfig('good.json', tinyConfig()), '--out', 'runs/good', '--quiet');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  saved = snapshot(run);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each bad input: exit 1, a message containing every fragment, the saved run untouched. */
async function expectFailure(argv: string[], ...fragments: (string | RegExp)[]): Promise<string> {
  const r = await cli(...argv);
  for (const f of fragments) expect(r.err).toMatch(f);
  expect(r.code).toBe(1);
  expect(r.err.startsWith('vaekit: ')).toBe(true);
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(snapshot(run)).toEqual(saved);
  return r.err;
}

const trainInto = (config: string) => ['train', '--config', config, '--out', 'runs/good', '--force', '--quiet'];

describe('bad input: a clear message, exit code 1, nothing saved is lost', () => {
  it('a config that is not JSON: file, line and column, and the line with a caret', async () => {
    const cfg = writeConfig('trailing.json', '{\n  "model": { "latentDim": 4, "encoder": { "type": "gaussian" } }\n  "data": {}\n}\n');
    const err = await expectFailure(trainInto(cfg), "trailing.json:3:3: not valid JSON: Expected ',' or '}' after property value");
    expect(err).toContain('  3 |   "data": {}\n    |   ^');
    const unexpected = writeConfig('token.json', '{ "model": tru }');
    await expectFailure(trainInto(unexpected), 'token.json:1:15: not valid JSON: Unexpected token', '  1 | { "model": tru }\n    |               ^');
  });

  it('an unknown plugin: lists the registered ones', async () => {
    const cfg = writeConfig('unknown.json', tinyConfig({ encoder: { type: 'gausian' } }));
    await expectFailure(trainInto(cfg), /unknown.json: model.encoder.type: expected a registered encoder plugin: .*"gaussian".*"planar".*; got "gausian"/);
  });

  it('a bad option: names the field, the value and what was expected', async () => {
    const cfg = writeConfig('option.json', tinyConfig({ encoder: { type: 'gaussian', hidden: [32, -5] } }));
    await expectFailure(trainInto(cfg), /option.json: model.encoder.hidden\[1\]: expected .*; got -5/);
    const typo = writeConfig('typo.json', { ...tinyConfig(), train: { epoch: 3 } });
    await expectFailure(trainInto(typo), /typo.json: train.epoch: expected no such option/);
  });

  it('a data file that is missing or not IDX', async () => {
    mkdirSync(join(dir, 'empty'), { recursive: true });
    const missing = writeConfig('missing.json', tinyConfig({ data: { path: join(dir, 'empty') } }));
    await expectFailure(trainInto(missing), /data \(mnist at .*empty\): .*empty\/train-(images|labels)-idx[13]-ubyte: missing/);
    mkdirSync(join(dir, 'garbage'), { recursive: true });
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(dir, 'garbage', f), 'PK\u0003\u0004 this is a zip, not IDX');
    }
    const garbage = writeConfig('garbage.json', tinyConfig({ data: { path: join(dir, 'garbage') } }));
    await expectFailure(trainInto(garbage), /not an IDX file \(first bytes 0x504b0304/);
    await expectFailure(['eval', '--model', 'runs/good', '--data', 'nothing-here.idx'], /--data nothing-here.idx: missing; expected a data set name/);
  });

  it('data whose width does not match the model', async () => {
    const narrow = floatIdx('narrow.idx', 5, 100, () => 0.5);
    await expectFailure(['eval', '--model', 'runs/good', '--data', narrow], /--data narrow.idx: model.dataDim: the model expects rows of width 784; the data set 'narrow.idx' has rows of width 100/);
    const wide = writeConfig('wide.json', { ...tinyConfig(), model: { ...(tinyConfig() as { model: object }).model, dataDim: 100 } });
    await expectFailure(trainInto(wide), /expects rows of width 100; the data set 'mnist' has rows of width 784/);
  });

  it('pixel values outside [0, 1] for a Bernoulli likelihood', async () => {
    const bright = floatIdx('bright.idx', 3, 784, (i) => (i === 784 + 10 ? 1.5 : 0.2));
    await expectFailure(['reconstruct', '--model', 'runs/good', '--data', bright, '--png', 'r.png'], /the bernoulli likelihood needs values in \[0, 1\]; got 1.5 at row 1, column 10/);
    // Real-valued data (the linear-Gaussian set) with a Bernoulli decoder.
    const lg = writeConfig('lg.json', { ...tinyConfig(), model: { ...(tinyConfig() as { model: object }).model, dataDim: 20 }, data: { name: 'linear-gaussian', limit: 50 } });
    await expectFailure(trainInto(lg), /training data: data: the bernoulli likelihood needs values in \[0, 1\]; got -?\d/);
  });

  it('non-finite values in data', async () => {
    const nan = floatIdx('nan.idx', 4, 784, (i) => (i === 2 * 784 + 7 ? Number.NaN : 0.1));
    await expectFailure(['eval', '--model', 'runs/good', '--data', nan], /--data nan.idx: 'nan.idx' row 2, column 7: expected a finite value; got NaN/);
  });

  it('a model directory that is missing or from an incompatible version', async () => {
    await expectFailure(['eval', '--model', 'runs/nope'], /--model runs\/nope: no such directory/);
    await expectFailure(['sample', '--model', 'good.json', '--png', 's.png'], /--model good.json: not a directory/);
    cpSync(run, join(dir, 'runs/future'), { recursive: true });
    const m = join(dir, 'runs/future/model.json');
    writeFileSync(m, readFileSync(m, 'utf8').replace('"version": 1', '"version": 2'));
    await expectFailure(['eval', '--model', 'runs/future'], /runs\/future: model.json has format version 2; this vaekit reads version 1 \(the model was saved by a newer vaekit: upgrade vaekit to load it\)/);
    await expectFailure(['train', '--out', 'runs/future', '--resume'], /--resume: runs\/future: model.json has format version 2/);
  });

  it('an output directory that exists, without --resume or --force', async () => {
    await expectFailure(['train', '--config', 'good.json', '--out', 'runs/good'], '--out runs/good: the directory already exists and is not empty; pass --resume to continue its run, --force to overwrite it, or choose another --out');
    // --resume with a config that changes the model is refused too.
    const other = writeConfig('other.json', tinyConfig({ encoder: { type: 'gaussian', hidden: [16] } }));
    await expectFailure(['train', '--config', other, '--out', 'runs/good', '--resume'], /differs from the run's .*config.json in "model"; only train.epochs and train.learningRate may change when resuming/);
  });
});

describe('command-line usage', () => {
  it('exits 2 on a malformed command line and 0 on --help', async () => {
    const bad = await cli('train', '--epochs', 'two');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--epochs: expected a positive integer; got "two"');
    const missing = await cli('sample', '--model', 'runs/good');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("required option '--png <file>' not specified");
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli()).code).toBe(2);
    expect((await cli('bench')).code).toBe(2);
    const help = await cli('eval', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('--samples <K>');
    expect(snapshot(run)).toEqual(saved);
  });
});
