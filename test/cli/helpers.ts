import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../../src/cli/main.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin', 'vaekit.js');
export const NAN_PLUGIN = join(ROOT, 'test', 'cli', 'fixtures', 'nan-likelihood-plugin.ts');

/** A tiny run config: 300 MNIST rows, 1 epoch of 3 steps, 4 latent dims, small nets. */
export function tinyConfig(overrides: { likelihood?: object; encoder?: object; data?: object; train?: object } = {}): object {
  return {
    model: {
      latentDim: 4,
      encoder: { type: 'gaussian', hidden: [32], ...(overrides.encoder ?? {}) },
      likelihood: overrides.likelihood ?? { type: 'bernoulli', hidden: [32] },
    },
    data: { name: 'mnist', limit: 300, testLimit: 40, ...(overrides.data ?? {}) },
    train: { epochs: 1, batchSize: 100, learningRate: 0.003, seed: 3, ...(overrides.train ?? {}) },
    eval: { samples: 20, iwaeSamples: [1, 10], elboSamples: 5 },
  };
}

/** Runs the real `vaekit` executable in a child process. */
export function vaekit(args: string[], { cwd, env = {} }: { cwd: string; env?: Record<string, string> }): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, VAEKIT_QUIET: '1', VAEKIT_BACKEND: 'wasm', ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Every file of a directory (recursively, hidden ones too) with its bytes, to compare before and after. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p, `${prefix}${f}/`);
      else out[`${prefix}${f}`] = readFileSync(p).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

/** Runs the CLI in-process (runCli returns the exit code; bin/vaekit.js only adds process.exit) with `dir` as the working directory. */
export async function cliIn(dir: string, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
    return { code, out, err };
  } finally {
    process.chdir(cwd);
  }
}
