import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, type CliIo } from './support.js';

export const BENCHES = ['tightness', 'speed'] as const;
export type BenchName = (typeof BENCHES)[number];

/** The package root: the nearest folder above this file with a package.json named vaekit. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'vaekit.js'))) return dir;
    dir = dirname(dir);
  }
  return resolve('.');
}

/**
 * `vaekit bench <name> [options]`: runs `bench/<name>.ts` with tsx in a child process, options
 * passed through, output streamed; the exit code is the script's.
 */
export async function benchCommand(name: BenchName, passThrough: readonly string[], io: CliIo): Promise<number> {
  const root = packageRoot();
  const script = join(root, 'bench', `${name}.ts`);
  if (!existsSync(script)) {
    throw new CliError(`bench ${name}: ${script} is missing (the benches ship with the source repository: run vaekit from a clone of it)`);
  }
  let tsxCli: string;
  try {
    tsxCli = createRequire(join(root, 'package.json')).resolve('tsx/cli');
  } catch {
    throw new CliError(`bench ${name}: the tsx package is missing; run \`npm install\` in ${root}`);
  }
  io.err(`vaekit: running ${join('bench', `${name}.ts`)} ${passThrough.join(' ')}\n`);
  return new Promise<number>((resolvePromise, reject) => {
    const child = spawn(process.execPath, [tsxCli, '--tsconfig', join(root, 'tsconfig.json'), script, ...passThrough], { cwd: process.cwd(), stdio: 'inherit', env: process.env });
    child.on('error', (e) => reject(new CliError(`bench ${name}: could not start: ${e.message}`)));
    child.on('exit', (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
  });
}
