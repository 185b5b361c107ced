import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts', 'setup-native.mjs');
const PKG = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const dir = mkdtempSync(join(tmpdir(), 'vaekit-setup-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the build would change in tfjs-node (absent entries included), to compare before and after. */
function packageState(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of ['package.json', 'deps', 'lib', 'build', join('scripts', 'custom-binary.json')]) {
    const f = join(PKG, p);
    out[p] = !existsSync(f) ? 'absent' : statSync(f).isDirectory() ? `dir ${statSync(f).mtimeMs}` : readFileSync(f, 'utf8');
  }
  return out;
}

/** `npm run setup:native -- --force` (so that an already built addon does not end it early) with `env` and `args` added. */
function setup(env: Record<string, string>, args: string[] = []) {
  const r = spawnSync(process.execPath, [SCRIPT, '--force', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  const ours = r.stderr.split('\n').filter((l) => l.startsWith('setup:native:'));
  return { code: r.status, ours, stdout: r.stdout };
}

// Each case takes away one thing the build needs. The checks run before anything is changed, so
// these runs leave node_modules exactly as they found it (a built addon too).
describe('npm run setup:native, when something is missing', () => {
  const cases: { name: string; env: () => Record<string, string>; args?: string[]; says: string[] }[] = [
    { name: 'no Python', env: () => ({ PYTHON: join(dir, 'no-such-python3') }), says: ['no Python 3', 'apt-get install -y python3 python3-pip'] },
    {
      name: 'no pip',
      env: () => {
        // A Python that answers --version but has no pip module.
        const fake = join(dir, 'python-without-pip');
        writeFileSync(fake, '#!/bin/sh\n[ "$1" = "--version" ] && { echo "Python 3.11.2"; exit 0; }\necho "No module named pip" >&2\nexit 1\n');
        chmodSync(fake, 0o755);
        return { PYTHON: fake };
      },
      says: ['no pip', 'apt-get install -y python3-pip', '--wheel <file>'],
    },
    {
      name: 'no wheel from pip',
      env: () => {
        const empty = join(dir, 'no-wheels');
        mkdirSync(empty, { recursive: true });
        // pip with no index and an empty folder of links: it finds no tensorflow-cpu at once.
        return { PIP_CONFIG_FILE: '/dev/null', PIP_NO_INDEX: '1', PIP_FIND_LINKS: empty };
      },
      says: ['pip could not download the tensorflow-cpu wheel', 'PIP_INDEX_URL', '--wheel <file>'],
    },
    { name: 'no wheel at the given path', env: () => ({}), args: ['--wheel', '/nonexistent/tensorflow_cpu.whl'], says: ['no wheel at /nonexistent/tensorflow_cpu.whl'] },
    { name: 'no compiler', env: () => ({ CXX: join(dir, 'no-such-c++') }), says: ['no C++ compiler', 'apt-get install -y g++'] },
    { name: 'no Node headers', env: () => ({ npm_config_nodedir: join(dir, 'no-headers') }), says: ['Node headers', 'no include/node/node_api.h'] },
  ];
  for (const c of cases) {
    it(`${c.name}: one message naming it and what to do, exit code 1, node_modules unchanged`, () => {
      const before = packageState();
      const r = setup(c.env(), c.args);
      expect(r.code).toBe(1);
      expect(r.ours).toHaveLength(1);
      expect(r.ours[0]).toMatch(/^setup:native: cannot build the native backend: .*\. To fix: .*\. vaekit keeps running on wasm\.$/);
      for (const s of c.says) expect(r.ours[0]).toContain(s);
      expect(packageState()).toEqual(before);
    });
  }

  it('rejects an unknown argument the same way', () => {
    const r = setup({}, ['--wheels']);
    expect(r.code).toBe(1);
    expect(r.ours).toEqual([
      'setup:native: cannot build the native backend: unknown argument "--wheels". To fix: usage: node scripts/setup-native.mjs [--wheel <file.whl>] [--force]. vaekit keeps running on wasm.',
    ]);
  });
});
