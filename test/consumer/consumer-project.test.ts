/**
 * vaekit as a dependency, as a user gets it: the package is built and packed (`npm pack`),
 * installed from the tarball into a fresh project outside the repository (from npm's cache where
 * it can: `--prefer-offline`; `--ignore-scripts` skips tfjs-node's libtensorflow download — the backend is wasm),
 * and used there:
 *  - ESM import of `vaekit` and `vaekit/testing`; CommonJS `require('vaekit')` works (Node ≥ 20.19
 *    / 22.12) or fails with a message naming `import()`;
 *  - a plugin file per role (prior, likelihood, flow step: docs/examples, importing only `vaekit`)
 *    through the library and through the CLI (`--plugin` .ts, plus a .mjs one), a TypeScript
 *    plugin without tsx installed failing with what to install, a plugin with a missing import
 *    failing with that import named;
 *  - `vaekit -V` printing vaekit's version, not the consumer's;
 *  - `tsc --strict` (module nodenext, skipLibCheck as tfjs's declarations need DOM types) on a
 *    TypeScript consumer and the plugin files.
 * Slow (a build when dist/ is older than the sources, two installs, a dozen node processes):
 * 1–3 minutes on an idle machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_INDEPENDENT_RUN, requiresForEach } from '../support/requires.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
const env = { ...process.env, VAEKIT_BACKEND: 'wasm', VAEKIT_QUIET: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
let dir = '';

function newest(d: string): number {
  let t = -1;
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : -1);
  }
  return t;
}

/** Runs a command in the consumer project; returns status and output. */
function run(cmd: string, args: string[], cwd = dir) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}
const vaekit = (...args: string[]) => run(process.execPath, [join(dir, 'node_modules', 'vaekit', 'bin', 'vaekit.js'), ...args]);
const npm = (...args: string[]) => {
  const r = run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error']);
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed: ${r.err}`);
  return r;
};

beforeAll(() => {
  if (BACKEND_INDEPENDENT_RUN.missing() !== null) return;
  // Build when a source is newer than dist/ (as `npm pack` would through prepare), then pack without scripts.
  const built = join(repo, 'dist', 'plugins', 'index.js');
  if (!existsSync(built) || statSync(built).mtimeMs < Math.max(newest(join(repo, 'src')), newest(join(repo, 'plugins')))) {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: repo, env, stdio: 'pipe' });
  }
  dir = mkdtempSync(join(tmpdir(), 'vaekit-consumer-'));
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: repo, env, encoding: 'utf8' }).trim().split('\n').pop()!;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '9.9.9', private: true, type: 'module' }, null, 2));
  npm('install', join(dir, tarball));
  mkdirSync(join(dir, 'plugins'));
  for (const f of ['laplace-prior.ts', 'laplace-likelihood.ts', 'affine-flow-step.ts', 'scaled-normal-prior.ts']) copyFileSync(join(repo, 'docs', 'examples', f), join(dir, 'plugins', f));
  // The same scaled-normal prior written as plain JavaScript, for `--plugin x.mjs`.
  writeFileSync(
    join(dir, 'plugins', 'half-normal-prior.mjs'),
    `import { definePlugin, definePluginModule, tf, z } from 'vaekit';
export default definePluginModule(definePlugin({
  role: 'prior', name: 'js-normal', description: 'N(0, I) written in JavaScript', options: z.object({}).strict(),
  create: (_o, ctx) => ({ name: 'js-normal', kind: 'js-normal', latentDim: ctx.latentDim,
    logProb: (zs) => tf.tidy(() => tf.sub(tf.mul(tf.sum(tf.square(zs), -1), -0.5), 0.5 * ctx.latentDim * Math.log(2 * Math.PI))),
    sample: (n) => ctx.random.normal([n, ctx.latentDim]), variables: () => [], dispose() {} }),
}));
`,
  );
  writeFileSync(join(dir, 'plugins', 'broken.mjs'), `import 'a-package-nobody-installed';\nexport default 1;\n`);
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      model: {
        latentDim: 5,
        dataDim: 20,
        encoder: { type: 'flow', hidden: [16], steps: [{ type: 'affine' }, { type: 'affine' }] },
        prior: { type: 'laplace', scale: 1 },
        likelihood: { type: 'laplace', hidden: [16], scale: 0.5 },
      },
      data: { name: 'linear-gaussian', limit: 200, testLimit: 50 },
      train: { epochs: 2, batchSize: 50, learningRate: 0.01, seed: 1 },
      eval: { samples: 20 },
    }),
  );
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a consumer project with vaekit installed from its tarball', () => {
  requiresForEach(BACKEND_INDEPENDENT_RUN);
  it('installs the library and CLI dependencies only: no tsx, esbuild, benchmark or typescript', () => {
    for (const tool of ['tsx', 'esbuild', 'benchmark', 'typescript', 'vitest', 'assemblyscript']) expect(existsSync(join(dir, 'node_modules', tool)), tool).toBe(false);
    for (const dep of ['inversify', 'zod', '@tensorflow/tfjs-backend-wasm']) expect(existsSync(join(dir, 'node_modules', dep)), dep).toBe(true);
  });

  it('prints vaekit\'s version with -V, not the consumer\'s', () => {
    const r = run('npx', ['--no-install', 'vaekit', '-V']);
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe(pkg.version);
  });

  it('imports vaekit and vaekit/testing as ES modules and builds a VAE with a JavaScript plugin', () => {
    writeFileSync(
      join(dir, 'esm.mjs'),
      `import { createVae, ContainerModule, definePluginModule, tf } from 'vaekit';
import { assertPrior, buildPlugin } from 'vaekit/testing';
import jsPrior from './plugins/half-normal-prior.mjs';
const vae = createVae({ latentDim: 2, dataDim: 3, encoder: { type: 'gaussian', hidden: [4] }, prior: { type: 'js-normal' }, likelihood: { type: 'gaussian', hidden: [4] } }, { plugins: [jsPrior] });
const elbo = vae.elbo(tf.tensor2d([[0.1, 0.2, 0.3]]), { samples: 4 }).elbo.dataSync()[0];
const checks = assertPrior('js-normal', { make: (D, random) => buildPlugin('prior', { type: 'js-normal' }, { latentDim: D, random, plugins: [jsPrior] }) });
console.log(JSON.stringify({ elbo, isModule: jsPrior instanceof ContainerModule, helper: typeof definePluginModule, checks: checks.length }));
`,
    );
    const r = run(process.execPath, ['esm.mjs']);
    expect(r.status, r.err).toBe(0);
    const o = JSON.parse(r.out.trim().split('\n').pop()!) as { elbo: number; isModule: boolean; helper: string; checks: number };
    expect(Number.isFinite(o.elbo)).toBe(true);
    expect(o).toMatchObject({ isModule: true, helper: 'function', checks: 5 });
  });

  it('gives CommonJS a working require (Node ≥ 20.19 / 22.12) or an error naming import()', () => {
    writeFileSync(join(dir, 'cjs.cjs'), `const v = require('vaekit'); console.log(typeof v.createVae, typeof v.definePluginModule);\n`);
    const r = run(process.execPath, ['cjs.cjs']);
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    const canRequireEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
    if (canRequireEsm) {
      expect(r.status, r.err).toBe(0);
      expect(r.out.trim()).toBe('function function');
    } else {
      expect(r.status).not.toBe(0);
      expect(r.err).toContain("await import('vaekit')");
    }
  });

  it('loads a .mjs plugin with --plugin and names the missing package of a plugin that fails to load', () => {
    const ok = vaekit('plugins', '--plugin', 'plugins/half-normal-prior.mjs');
    expect(ok.status, ok.err).toBe(0);
    expect(ok.out).toContain('js-normal');
    const bad = vaekit('plugins', '--plugin', join(dir, 'plugins', 'broken.mjs'));
    expect(bad.status).toBe(1);
    expect(bad.err).toMatch(/--plugin .*broken\.mjs: the module failed to load: Cannot find package 'a-package-nobody-installed'/);
  });

  it('says to install tsx when a TypeScript plugin is given without it', () => {
    const r = vaekit('plugins', '--plugin', 'plugins/laplace-prior.ts');
    expect(r.status).toBe(1);
    expect(r.err).toContain('is TypeScript, which needs the tsx package to load: install it beside vaekit (`npm install --save-dev tsx`)');
  });

  describe('with tsx installed beside it', () => {
    beforeAll(() => {
      if (BACKEND_INDEPENDENT_RUN.missing() !== null) return;
      npm('install', '--save-dev', `tsx@${pkg.devDependencies.tsx}`);
    }, 300_000);

    it('lists and trains with a TypeScript plugin per role through the CLI', () => {
      const plugins = ['laplace-prior.ts', 'laplace-likelihood.ts', 'affine-flow-step.ts'].flatMap((f) => ['--plugin', join('plugins', f)]);
      const list = vaekit('plugins', ...plugins);
      expect(list.status, list.err).toBe(0);
      for (const f of ['laplace-prior', 'laplace-likelihood', 'affine-flow-step']) expect(list.out).toMatch(new RegExp(`\\s\\[from plugins/${f}\\.ts\\]`));
      const trained = vaekit('train', '--config', 'config.json', '--out', 'run', '--quiet', ...plugins);
      expect(trained.status, trained.err).toBe(0);
      const history = JSON.parse(readFileSync(join(dir, 'run', 'history.json'), 'utf8')) as { epochs: { trainBound: number }[] };
      expect(history.epochs).toHaveLength(2);
      expect(history.epochs.every((e) => Number.isFinite(e.trainBound))).toBe(true);
      const evaluated = vaekit('eval', '--model', 'run', '--samples', '20', ...plugins);
      expect(evaluated.status, evaluated.err).toBe(0);
    });

    it('uses the TypeScript plugins from a TypeScript program (tsx), and tsc --strict accepts it all', () => {
      writeFileSync(
        join(dir, 'main.ts'),
        `import { createVae, tf, type Vae } from 'vaekit';
import { assertFlowStep, assertLikelihood } from 'vaekit/testing';
import laplacePrior from './plugins/laplace-prior.ts';
import laplaceLikelihood, { LaplaceLikelihood } from './plugins/laplace-likelihood.ts';
import affineStep, { AffineFlowStep } from './plugins/affine-flow-step.ts';

const vae: Vae = createVae(
  { latentDim: 2, dataDim: 3, encoder: { type: 'flow', hidden: [4], steps: [{ type: 'affine' }] }, prior: { type: 'laplace' }, likelihood: { type: 'laplace', hidden: [4] } },
  { plugins: [laplacePrior, laplaceLikelihood, affineStep] },
);
const elbo: number = vae.elbo(tf.tensor2d([[0.1, 0.2, 0.3]]), { samples: 4 }).elbo.dataSync()[0]!;
assertFlowStep('affine', { make: (D, C, random) => new AffineFlowStep(D, C, random), inverse: true });
assertLikelihood('laplace', { make: (D, P, random) => new LaplaceLikelihood(D, P, [4], 'tanh', 0.3, random) });
console.log(JSON.stringify({ elbo }));
`,
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true, types: [] }, include: ['main.ts', 'plugins/*.ts'] }),
      );
      const r = run(process.execPath, [join(dir, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'main.ts']);
      expect(r.status, r.err).toBe(0);
      expect(Number.isFinite((JSON.parse(r.out.trim().split('\n').pop()!) as { elbo: number }).elbo)).toBe(true);
      // The repository's TypeScript (the consumer's own would do the same): types resolve from the consumer's node_modules.
      const tsc = run(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
      expect(tsc.out + tsc.err).toBe('');
      expect(tsc.status).toBe(0);
    });
  });
});
