#!/usr/bin/env node
/**
 * `npm run prepare`: builds dist/ (`npm run build`). npm runs it after `npm install` in a clone,
 * before `npm pack`, and in the folder of a path install (`npm install ../vaekit-clone`) — where
 * it does not install the folder's own dependencies first, so in a fresh clone the compiler is
 * missing. Then this installs them here, exactly as locked (`npm ci --ignore-scripts`: no native
 * download for the optional tfjs-node), and builds. Plain JavaScript: it runs before anything is
 * installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(args) {
  const r = spawnSync(npm, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`vaekit prepare: \`npm ${args.join(' ')}\` failed in ${root}${r.error ? ` (${r.error.message})` : ''}`);
    process.exit(r.status ?? 1);
  }
}

if (!existsSync(join(root, 'node_modules', 'typescript', 'package.json'))) {
  console.error(`vaekit prepare: ${root} has no node_modules (a fresh clone installed by path); installing its locked dependencies to build dist/`);
  run(['ci', '--ignore-scripts', '--no-audit', '--no-fund']);
}
run(['run', 'build']);
