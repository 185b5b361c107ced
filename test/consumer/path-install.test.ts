/**
 * vaekit from a fresh clone, installed by path as a user would without publishing it:
 * `git clone <this repository>` (the committed HEAD) into a temporary folder, then
 * `npm install <clone>` in a fresh consumer project outside the repository. npm links the folder
 * and runs its `prepare` (scripts/prepare.mjs), which installs the clone's locked dependencies —
 * npm does not for a linked folder — and builds dist/. The consumer then imports `vaekit`, builds
 * and scores a tiny model, and runs the `vaekit` command.
 *
 * Slow: one full dependency install of the clone (from npm's cache where it can,
 * `--prefer-offline`) and a TypeScript build, 1–4 minutes. Skips, saying why, where git is
 * missing, the repository is not a git checkout, or npm cannot reach the registry for packages
 * its cache lacks.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKEND_INDEPENDENT_RUN, requiresForEach } from '../support/requires.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const env = { ...process.env, VAEKIT_BACKEND: 'wasm', VAEKIT_QUIET: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
const work = mkdtempSync(join(tmpdir(), 'vaekit-path-install-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string, timeout = 240_000) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout });
  return { status: r.status, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

/** npm's messages when the registry cannot be reached (and the cache does not hold the package). */
const OFFLINE = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|ENOTCACHED)\b/;

describe('a fresh clone installed as a path dependency', () => {
  requiresForEach(BACKEND_INDEPENDENT_RUN);
  it('builds on install (prepare), imports as vaekit and trains and scores a tiny model', async (ctx) => {
    if (run('git', ['--version'], work).status !== 0) ctx.skip('needs git (to clone the repository)');
    if (!existsSync(join(repo, '.git'))) ctx.skip(`${repo} is not a git checkout, so there is no clone to install`);
    const clone = join(work, 'vaekit-clone');
    const cloned = run('git', ['clone', '--quiet', '--no-hardlinks', repo, clone], work);
    expect(cloned.status, cloned.err).toBe(0);
    expect(existsSync(join(clone, 'node_modules')), 'a fresh clone has no node_modules').toBe(false);
    expect(existsSync(join(clone, 'dist')), 'a fresh clone has no dist/').toBe(false);

    const consumer = join(work, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '9.9.9', private: true, type: 'module' }, null, 2));
    const installed = run('npm', ['install', clone, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], consumer, 900_000);
    if (installed.status !== 0 && OFFLINE.test(installed.err)) ctx.skip(`npm cannot reach the registry for packages its cache lacks: ${OFFLINE.exec(installed.err)![0]}`);
    expect(installed.status, installed.err).toBe(0);
    expect(existsSync(join(clone, 'dist', 'plugins', 'index.js')), 'prepare built dist/').toBe(true);

    writeFileSync(
      join(consumer, 'tiny.mjs'),
      `import { createVae, estimateLogLikelihood, selectBackend, tf, train } from 'vaekit';
await selectBackend('wasm');
const rows = 40, dim = 3;
const x = Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i));
const vae = createVae({ latentDim: 2, dataDim: dim, encoder: { type: 'gaussian', hidden: [8] }, likelihood: { type: 'gaussian', hidden: [8] } }, { seed: 1 });
const history = await train(vae, { name: 'tiny', x, rows, dim, binarize: 'none' }, { epochs: 3, batchSize: 20, learningRate: 0.01, seed: 1, quiet: true, progress: false });
const ll = await estimateLogLikelihood(vae, tf.tensor2d(x, [rows, dim]), { samples: 50, seed: 1, progress: false });
console.log(JSON.stringify({ backend: tf.getBackend(), epochs: history.epochs.length, bound: history.epochs.at(-1).trainBound, ll: ll.mean }));
`,
    );
    const r = run(process.execPath, ['tiny.mjs'], consumer);
    expect(r.status, r.err).toBe(0);
    const o = JSON.parse(r.out.trim().split('\n').pop()!) as { backend: string; epochs: number; bound: number; ll: number };
    expect(o.backend).toBe('wasm');
    expect(o.epochs).toBe(3);
    expect(Number.isFinite(o.bound)).toBe(true);
    expect(Number.isFinite(o.ll)).toBe(true);

    const version = run(join(consumer, 'node_modules', '.bin', 'vaekit'), ['-V'], consumer);
    expect(version.status, version.err).toBe(0);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(version.out.trim()).not.toBe('9.9.9');
  }, 1_200_000);
});
