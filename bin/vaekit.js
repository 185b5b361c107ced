#!/usr/bin/env node
// The `vaekit` command. Works from a build (dist/, made by `npm install` in a clone through the
// prepare script, shipped in the package) and from a clone's sources (run through tsx, a dev
// dependency, when a source is newer than the build or there is none).
// All errors end here as one line and an exit code: 0 ok, 1 failure, 2 usage.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(e) {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`vaekit: ${msg}\n`);
  if (process.env.VAEKIT_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}
// Registered before the wasm backend installs its own handlers (which rethrow and print
// the whole minified module): anything that escapes still ends as one message.
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

/** The newest modification time of the .ts files under `dir` (-1 when there are none). */
function newestSource(dir) {
  let newest = -1;
  if (!existsSync(dir)) return newest;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}
const built = join(root, 'dist', 'src', 'cli', 'main.js');
// dist/ when built and no source is newer than the build (a clone without a build runs the sources).
const useDist = existsSync(built) && statSync(built).mtimeMs >= Math.max(newestSource(join(root, 'src')), newestSource(join(root, 'plugins')));

if (!useDist) {
  // A clone without a (current) build runs its TypeScript sources through tsx, a dev dependency
  // (registered for the process, so --plugin .ts files load too). A build needs no tsx: a .ts
  // plugin then registers it on demand (src/cli/plugin-import.ts).
  try {
    const { register } = await import('tsx/esm/api');
    register({ tsconfig: join(root, 'tsconfig.json') });
  } catch (e) {
    fail(new Error(`vaekit is not built (no current ${join(root, 'dist')}) and cannot run from source without tsx (${e instanceof Error ? e.message : e}); run \`npm install\` in ${root} (it builds dist/ through the prepare script)`));
  }
}

const base = useDist ? join(root, 'dist') : root;
const ext = useDist ? '.js' : '.ts';
let code;
try {
  // The package entry registers the built-in plugins.
  await import(pathToFileURL(join(base, 'plugins', `index${ext}`)).href);
  const { runCli } = await import(pathToFileURL(join(base, 'src', 'cli', `main${ext}`)).href);
  code = await runCli(process.argv.slice(2));
} catch (e) {
  fail(e);
}
process.exit(code);
