import { spawn } from 'node:child_process';
import { expect } from 'vitest';

/**
 * Runs an ES-module `script` in a fresh Node process with tsx (from the repository root, with
 * `env` as its whole environment; `ipc`: with an IPC channel, as a forked child has), expects it
 * to exit 0 (stderr in the message otherwise) and returns the JSON its stdout printed last.
 */
export async function runNodeScript<T>(script: string, env: Record<string, string | undefined>, { ipc = false } = {}): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url),
    env,
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  expect(code, err).toBe(0);
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}
