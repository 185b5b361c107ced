import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTO_ORDER, ensureBackend, selectedBackend, tf } from '../../plugins/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHILD = join(ROOT, 'test', 'backend', 'fixtures', 'train-without-backend.ts');

/** The process environment without the switches under test. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const k of ['VAEKIT_BACKEND', 'VAEKIT_QUIET']) if (!(k in extra)) delete env[k];
  return env;
}

/** Runs the fixture (a user's script: createVae, then train) in a fresh Node process. */
function runChild(mode: 'auto' | 'explicit-cpu', extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, mode], { cwd: ROOT, env: cleanEnv(extra), encoding: 'utf8', timeout: 240_000 });
  expect(r.status, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { backend: string; trainBound: number; steps: number };
  const announcements = r.stderr.split('\n').filter((l) => l.startsWith('vaekit: using the'));
  return { ...result, announcements };
}

/** The first backend of `auto`'s order that loads here: tensorflow when tfjs-node loads, else wasm. */
function bestAvailable(): string {
  const r = spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { cwd: ROOT, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  return r.status === 0 ? 'tensorflow' : 'wasm';
}

describe('automatic backend for library users', () => {
  it('selects in the order tensorflow, wasm, cpu', () => {
    expect(AUTO_ORDER).toEqual(['tensorflow', 'wasm', 'cpu']);
  });

  it('a fresh process that builds and trains without choosing ends on the best backend available and says so once', () => {
    const best = bestAvailable();
    const r = runChild('auto');
    expect(r.backend).toBe(best);
    expect(r.announcements).toEqual([`vaekit: using the ${best} backend`]);
    expect(r.steps).toBe(2);
    expect(Number.isFinite(r.trainBound) && r.trainBound < 0).toBe(true);
  });

  it('VAEKIT_BACKEND still decides, and VAEKIT_QUIET=1 silences the message', () => {
    const r = runChild('auto', { VAEKIT_BACKEND: 'cpu', VAEKIT_QUIET: '1' });
    expect(r.backend).toBe('cpu');
    expect(r.announcements).toEqual([]);
  });

  it('an explicit selectBackend before the first call wins: no second selection, one message', () => {
    const r = runChild('explicit-cpu');
    expect(r.backend).toBe('cpu');
    expect(r.announcements).toEqual(['vaekit: using the cpu backend']);
  });

  it('keeps the selection already made in this process (the suite selected one before the tests)', async () => {
    const before = tf.getBackend();
    expect(selectedBackend()).toBe(before);
    expect(await ensureBackend()).toBe(before);
    expect(tf.getBackend()).toBe(before);
  });
});
