import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../plugins/index.js';
import { runCli } from '../../src/cli/main.js';
import { readPng } from '../../src/plot/image-grid.js';
import { tinyConfig } from './helpers.js';

let cwd: string;
const out: string[] = [];
const err: string[] = [];
const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) };
beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'vaekit-posterior-'));
  const config = tinyConfig() as { model: { latentDim: number } };
  config.model.latentDim = 3;
  writeFileSync(join(cwd, 'tiny.json'), JSON.stringify(config));
  expect(await runCli(['train', '--config', join(cwd, 'tiny.json'), '--out', join(cwd, 'run'), '--quiet', '--backend', 'wasm'], io)).toBe(0);
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('vaekit posterior', () => {
  it('writes the picture of the chosen rows and prints each row\'s bounds with ESS and k̂', async () => {
    out.length = 0;
    const png = join(cwd, 'post.png');
    const code = await runCli(['posterior', '--model', join(cwd, 'run'), '--rows', '0,3', '--dims', '0,2', '--grid', '41', '--samples', '200', '--png', png, '--quiet', '--backend', 'wasm'], io);
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/row 0: ELBO -\d+\.\d+, log p̂\(x\) -\d+\.\d+ \(K = 200; ESS \d+\.\d, Pareto k̂ -?\d\.\d\d\), grid log ∫ p\(x, z\) over the slice -\d+\.\d+; q on the grid: exact/);
    expect(text).toMatch(/row 3: /);
    expect(text).toContain('coordinates z1 × z3');
    const img = readPng(readFileSync(png));
    expect(img.width).toBeGreaterThan(600);
  });
  it('names the option and the value it cannot use', async () => {
    err.length = 0;
    expect(await runCli(['posterior', '--model', join(cwd, 'run'), '--rows', '0,x', '--png', join(cwd, 'p.png')], io)).toBe(2);
    expect(err.join('')).toContain('--rows: expected a comma-separated list of distinct row indices ≥ 0 (e.g. 0,5,9); got "0,x"');
    err.length = 0;
    expect(await runCli(['posterior', '--model', join(cwd, 'run'), '--rows', '0', '--dims', '0,5', '--png', join(cwd, 'p.png'), '--quiet', '--backend', 'wasm'], io)).toBe(2);
    expect(err.join('')).toContain('--dims: expected coordinates in 0..2; got 0,5');
  });
});
