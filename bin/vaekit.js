#!/usr/bin/env node
// The `vaekit` command. Works from a fresh clone (TypeScript sources run through tsx, a
// dependency) and from a build (dist/, preferred when it is at least as new as the sources).
// All errors end here as one line and an exit code: 0 ok, 1 failure, 2 usage.
import { existsSync, statSync } from 'node:fs';
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

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);
const built = join(root, 'dist', 'src', 'cli', 'main.js');
const source = join(root, 'src', 'cli', 'main.ts');
const useDist = existsSync(built) && (!existsSync(source) || (mtime(built) >= mtime(source) && mtime(built) >= mtime(join(root, 'plugins', 'index.ts'))));

try {
  // tsx also lets --plugin load TypeScript modules.
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: join(root, 'tsconfig.json') });
} catch (e) {
  if (!useDist) fail(new Error(`cannot run from source: the tsx package is missing (${e instanceof Error ? e.message : e}); run \`npm install\` in ${root}`));
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
