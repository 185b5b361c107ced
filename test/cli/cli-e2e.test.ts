import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { readPng } from '../../src/plot/image-grid.js';
import { NAN_PLUGIN, snapshot, tinyConfig, vaekit } from './helpers.js';

// The real executable in child processes (tsx + wasm start-up each time): 12 spawns in all.
let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'vaekit-cli-'));
  // The nan-bernoulli user plugin is a plain Bernoulli decoder unless VAEKIT_TEST_NAN_AT is set.
  writeFileSync(join(cwd, 'tiny.json'), JSON.stringify(tinyConfig({ likelihood: { type: 'nan-bernoulli', hidden: [32] } }), null, 2));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const plugin = ['--plugin', NAN_PLUGIN];
const numberIn = (text: string, row: string) => Number(new RegExp(`\\| ${row} \\|[^|]*\\| (-?[0-9.]+) \\|`).exec(text)?.[1]);

describe('vaekit, end to end', () => {
  it('trains a run: exit 0, a loadable checkpoint, history.json and the bound curve', () => {
    const r = vaekit(['train', '--config', 'tiny.json', '--out', 'runs/a', ...plugin], { cwd });
    expect(r.stderr).toMatch(/epoch 1\/1 {2}train elbo -\d+\.\d+/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/trained runs\/a: 1 epoch, final train bound -\d+\.\d+ nats/);
    for (const f of ['config.json', 'model.json', 'weights.bin', 'optimizer.bin', 'history.json', 'bound.png']) expect(existsSync(join(cwd, 'runs/a', f))).toBe(true);
    const history = JSON.parse(readFileSync(join(cwd, 'runs/a/history.json'), 'utf8'));
    expect(history.epochs).toHaveLength(1);
    expect(history.epochs[0].trainBound).toBeLessThan(-100);
    expect(history.epochs[0].trainBound).toBeGreaterThan(-600);
    const png = readPng(readFileSync(join(cwd, 'runs/a/bound.png')));
    expect([png.width, png.height]).toEqual([800, 500]);
    const manifest = JSON.parse(readFileSync(join(cwd, 'runs/a/model.json'), 'utf8'));
    expect(manifest.checkpoint.epoch).toBe(1);
    expect(manifest.checkpoint.steps).toBe(3);
  });

  it('evaluates the saved model and prints the bound report', () => {
    const r = vaekit(['eval', '--model', 'runs/a', '--samples', '20', ...plugin], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('40 rows; nats per data point');
    const elbo = numberIn(r.stdout, 'ELBO');
    const iwae10 = numberIn(r.stdout, 'IWAE_10');
    const ll = numberIn(r.stdout, 'log p̂\\(x\\)');
    expect(elbo).toBeLessThan(-100);
    expect(elbo).toBeGreaterThan(-600);
    // IWAE_K rises with K (up to Monte Carlo noise of a few tenths of a nat on 40 rows).
    expect(ll).toBeGreaterThan(elbo);
    expect(ll).toBeGreaterThan(iwae10 - 0.5);
    expect(numberIn(r.stdout, 'gap log p̂\\(x\\) − ELBO')).toBeCloseTo(ll - elbo, 1);
  });

  it('splits eval rows over worker threads (loading --plugin in each) with the report of one thread', () => {
    // 150 rows in batches of 100: two batches, so --workers 2 uses two threads.
    const args = ['eval', '--model', 'runs/a', '--samples', '20', '--rows', '150', '--json', ...plugin];
    const one = vaekit([...args, '--workers', '1'], { cwd });
    const two = vaekit([...args, '--workers', '2'], { cwd, env: { VAEKIT_QUIET: '0' } });
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(two.stderr).toMatch(/evaluated 150 rows in \d+\.\d s \(\d+\.\d rows\/s\) on 2 threads/);
    const a = JSON.parse(one.stdout) as { threads: number; elbo: { mean: number }; logLikelihood: { mean: number; stdErr: number } };
    const b = JSON.parse(two.stdout) as typeof a;
    expect([a.threads, b.threads]).toEqual([1, 2]);
    expect(b.elbo.mean).toBeCloseTo(a.elbo.mean, 4);
    expect(b.logLikelihood.mean).toBeCloseTo(a.logLikelihood.mean, 4);
    expect(b.logLikelihood.stdErr).toBeCloseTo(a.logLikelihood.stdErr, 4);
    expect(vaekit(['eval', '--model', 'runs/a', '--workers', '0'], { cwd }).stderr).toMatch(/--workers: expected a positive integer or auto; got "0"/);
  });

  it('writes a sample grid and a reconstruction grid', () => {
    const s = vaekit(['sample', '--model', 'runs/a', '--n', '16', '--png', 'pics/samples.png', ...plugin], { cwd });
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/wrote pics\/samples.png: 16 samples .* mean pixel value 0\.\d{4}/);
    // 4 × 4 images of 28 × 28 at scale 2 with 2-pixel gaps (2 + 4·58 = 234 square) under a caption
    // (lines of text above the grid; at least as wide as the grid).
    const sp = readPng(readFileSync(join(cwd, 'pics/samples.png')));
    expect(sp.width).toBeGreaterThanOrEqual(234);
    expect(sp.height).toBeGreaterThan(234);

    const r = vaekit(['reconstruct', '--model', 'runs/a', '--n', '8', '--png', 'pics/recon.png', ...plugin], { cwd });
    expect(r.code).toBe(0);
    const mse = Number(/mean squared error (\d\.\d+)/.exec(r.stdout)?.[1]);
    expect(mse).toBeGreaterThan(0);
    expect(mse).toBeLessThan(0.3);
    const rp = readPng(readFileSync(join(cwd, 'pics/recon.png')));
    expect(rp.width).toBeGreaterThan(2 * 56);
  });

  it('resumes to 2 epochs with the same weights, byte for byte, as an uninterrupted 2-epoch run', () => {
    const resumed = vaekit(['train', '--config', 'tiny.json', '--out', 'runs/a', '--resume', '--epochs', '2', ...plugin], { cwd });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('epochs 2–2');
    const straight = vaekit(['train', '--config', 'tiny.json', '--out', 'runs/b', '--epochs', '2', ...plugin], { cwd });
    expect(straight.code).toBe(0);
    const a = readFileSync(join(cwd, 'runs/a/weights.bin'));
    const b = readFileSync(join(cwd, 'runs/b/weights.bin'));
    expect(a.length).toBeGreaterThan(1000);
    expect(a.equals(b)).toBe(true);
    const ha = JSON.parse(readFileSync(join(cwd, 'runs/a/history.json'), 'utf8')).epochs.map((e: { trainBound: number }) => e.trainBound);
    const hb = JSON.parse(readFileSync(join(cwd, 'runs/b/history.json'), 'utf8')).epochs.map((e: { trainBound: number }) => e.trainBound);
    expect(ha).toEqual(hb);
  });

  it('stops on NaN with exit 1, names the epoch and step, and keeps the last good checkpoint untouched', () => {
    const before = snapshot(join(cwd, 'runs/a'));
    const r = vaekit(['train', '--out', 'runs/a', '--resume', '--epochs', '3', ...plugin], { cwd, env: { VAEKIT_TEST_NAN_AT: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('non-finite loss or gradient (NaN) at epoch 3, step 1');
    expect(r.stderr).toContain('The last good checkpoint (epoch 2) is kept in runs/a');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(snapshot(join(cwd, 'runs/a'))).toEqual(before);
  });

  it('refuses an existing output directory and a config that is not JSON, touching nothing', () => {
    const before = snapshot(join(cwd, 'runs/a'));
    const exists = vaekit(['train', '--config', 'tiny.json', '--out', 'runs/a', ...plugin], { cwd });
    expect(exists.code).toBe(1);
    expect(exists.stderr).toContain('vaekit: --out runs/a: the directory already exists and is not empty; pass --resume to continue its run, --force to overwrite it');

    writeFileSync(join(cwd, 'broken.json'), '{\n  "model": {\n    "latentDim": 4,\n  }\n}\n');
    const broken = vaekit(['train', '--config', 'broken.json', '--out', 'runs/a', '--force'], { cwd });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('vaekit: broken.json:4:3: not valid JSON: Expected double-quoted property name');
    expect(broken.stderr.split('\n').filter((l) => l.length > 300)).toEqual([]); // no minified wasm dump
    expect(snapshot(join(cwd, 'runs/a'))).toEqual(before);
  });

  // The cases above pin their children to wasm; this one runs them on the backend this suite
  // runs on (VAEKIT_BACKEND, else wasm), so a native run of the suite exercises the CLI on it.
  it('trains and evaluates on the backend the suite runs on, says which, and matches the wasm run to float32 rounding', () => {
    const backend = tf.getBackend();
    const r = vaekit(['train', '--config', 'tiny.json', '--out', 'runs/selected', ...plugin], { cwd, env: { VAEKIT_BACKEND: backend, VAEKIT_QUIET: '0' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('vaekit: using the'))).toEqual([`vaekit: using the ${backend} backend`]);
    const bound = (run: string) => JSON.parse(readFileSync(join(cwd, run, 'history.json'), 'utf8')).epochs[0].trainBound as number;
    // Same config, seed and JS random stream: only the backend's float32 arithmetic differs
    // (cpu against wasm: 2e-5 nats after the 3 steps).
    expect(Math.abs(bound('runs/selected') - bound('runs/a'))).toBeLessThan(0.01);
    const e = vaekit(['eval', '--model', 'runs/selected', '--samples', '20', ...plugin], { cwd, env: { VAEKIT_BACKEND: backend } });
    expect(e.code, e.stderr).toBe(0);
    expect(numberIn(e.stdout, 'ELBO')).toBeLessThan(-100);
  });
});
