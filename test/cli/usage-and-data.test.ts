import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../plugins/index.js';
import { readConfigFile } from '../../src/cli/support.js';
import { tf } from '../../src/core/tf.js';
import { readIdx } from '../../src/data/idx.js';
import { loadData, loadTestData } from '../../src/data/load-data.js';
import { mnistFolder } from '../../src/data/mnist.js';
import { parseConfig } from '../../src/config/schema.js';
import { cliIn, tinyConfig } from './helpers.js';

// Issue 14, item 10 (and item 6's `sample --n 1e9`): the CLI in-process on one tiny saved run.
let dir: string;

const cli = (...argv: string[]) => cliIn(dir, argv);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vaekit-usage-'));
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify(tinyConfig()));
  const r = await cli('train', '--config', 'tiny.json', '--out', 'run', '--quiet');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('command line and data paths', () => {
  it('a config starting with a UTF-8 byte-order mark is read; a JSON error in it gets the column an editor shows', () => {
    const text = JSON.stringify(tinyConfig());
    writeFileSync(join(dir, 'bom.json'), `\uFEFF${text}`);
    expect(readConfigFile(join(dir, 'bom.json'))).toEqual(parseConfig(JSON.parse(text)));
    writeFileSync(join(dir, 'bom-bad.json'), '\uFEFF{ "model": tru }');
    let message = '';
    try {
      readConfigFile(join(dir, 'bom-bad.json'));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/bom-bad\.json:1:15: not valid JSON/);
    expect(message).toContain('  1 | { "model": tru }\n    |               ^');
    expect(message).not.toContain('\uFEFF');
  });

  it('train without --config is a usage error (exit 2) like the other missing flags', async () => {
    const r = await cli('train', '--out', 'elsewhere');
    expect(r.code).toBe(2);
    expect(r.err).toBe("vaekit: train: required option '--config <file>' not specified (or --resume with --out <run directory>)\n");
  });

  it('--seed 0 is accepted (as in a config); --seed -1 and 1.5 are not; --n takes 1e3', async () => {
    const ok = await cli('sample', '--model', 'run', '--png', 's.png', '--n', '4', '--seed', '0');
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    for (const bad of ['-1', '1.5']) {
      const r = await cli('sample', '--model', 'run', '--png', 's.png', '--seed', bad);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--seed: expected a non-negative integer; got "${bad}"`);
    }
    const e3 = await cli('sample', '--model', 'run', '--png', 's.png', '--n', '1e1');
    expect(e3.out).toContain('wrote s.png: 10 samples');
  });

  it('sample --n 1e9 is refused before drawing, with the bytes it would need', async () => {
    const before = tf.memory().numTensors;
    const r = await cli('sample', '--model', 'run', '--png', 'big.png', '--n', '1e9');
    expect(r.code).toBe(1);
    expect(r.err).toBe('vaekit: sample: 1000000000 samples: [1000000000 × 784] float32 values need 3.1 TB (3.136e+12 bytes); at most 2.1 GB fit\n');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('--rows and --n beyond the data name the flag (not `limit`)', async () => {
    const rows = await cli('eval', '--model', 'run', '--rows', '100000');
    expect(rows.code).toBe(1);
    expect(rows.err).toBe('vaekit: --rows 100000: the mnist test split has only 10000 rows\n');
    const n = await cli('reconstruct', '--model', 'run', '--n', '20000', '--png', 'r.png');
    expect(n.err).toBe('vaekit: --n 20000: the mnist test split has only 10000 rows\n');
  });

  it('eval --data <folder> needs only the test files; a folder without them names the files, not npm', async () => {
    mkdirSync(join(dir, 'test-only'));
    for (const f of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) copyFileSync(join(mnistFolder(), f), join(dir, 'test-only', f));
    const r = await cli('eval', '--model', 'run', '--data', 'test-only', '--rows', '20', '--samples', '4', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).rows).toBe(20);
    mkdirSync(join(dir, 'empty'));
    const empty = await cli('eval', '--model', 'run', '--data', 'empty');
    expect(empty.err).toBe(
      'vaekit: --data empty: empty/t10k-labels-idx1-ubyte: missing; expected the mnist test files t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz) in empty\n',
    );
    // The test split alone is the same rows as loadData's.
    const config = parseConfig({ ...tinyConfig(), data: { name: 'mnist', limit: 10, testLimit: 30, binarize: 'static', seed: 4 } });
    expect(loadTestData(config.data).x).toEqual(loadData(config.data).test.x);
    const lg = parseConfig({ ...tinyConfig(), data: { name: 'linear-gaussian', limit: 10, testLimit: 30, seed: 4 } });
    expect(loadTestData(lg.data, { dataDim: 6, latentDim: 2 }).x).toEqual(loadData(lg.data, { dataDim: 6, latentDim: 2 }).test.x);
  });

  it('an IDX path that is a directory: a clear message, not EISDIR', async () => {
    mkdirSync(join(dir, 'rows.idx'));
    expect(() => readIdx(join(dir, 'rows.idx'))).toThrow(`${join(dir, 'rows.idx')}: is a directory; expected an IDX file`);
    const r = await cli('eval', '--model', 'run', '--data', 'rows.idx');
    expect(r.err).toBe('vaekit: --data rows.idx: is a directory; expected an IDX file\n');
    mkdirSync(join(dir, 'nested', 't10k-labels-idx1-ubyte'), { recursive: true });
    const nested = await cli('eval', '--model', 'run', '--data', 'nested');
    expect(nested.err).toBe('vaekit: --data nested: nested/t10k-labels-idx1-ubyte: is a directory; expected an IDX file\n');
  });
});

describe('one name per sample count on the command line', () => {
  it('eval and posterior take --samples for K; the old --ll-samples and --k fail naming it', async () => {
    for (const [cmd, extra] of [['eval', []], ['posterior', ['--rows', '0', '--png', 'p.png']]] as const) {
      for (const old of ['--ll-samples', '--k']) {
        const r = await cli(cmd, '--model', 'run', ...extra, old, '10');
        expect(r.code, `${cmd} ${old}`).toBe(2); // a usage error
        expect(r.err).toContain(`${old} is now --samples.`);
      }
    }
    const help = await cli('eval', '--help');
    expect(help.out).toContain('--samples <K>');
    expect(help.out).not.toContain('--ll-samples');
  });
});
