/**
 * Imports a `--plugin` file from anywhere on disk. JavaScript (`.js`, `.mjs`, `.cjs`) goes straight
 * to Node; TypeScript (`.ts`, `.mts`, `.cts`) needs a loader: tsx, an optional peer dependency of
 * vaekit, registered on demand the first time a TypeScript plugin is loaded (a clone running from
 * its sources has it registered already). A failure names the real cause (the first error of the
 * `cause` chain that is not a wrapper), not a loader's follow-up error.
 */
import { dirname, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nearestTsconfig } from '../config/nearest-tsconfig.js';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);
const JAVASCRIPT = new Set(['.js', '.mjs', '.cjs']);

let tsxRegistered = false;

/**
 * Registers tsx's ESM loader once, with the tsconfig.json of the plugin's own project (found from
 * the file upward, not from the working directory); throws a message saying how to install tsx
 * when it is missing.
 */
async function registerTypeScript(path: string): Promise<void> {
  if (tsxRegistered) return;
  let api: { register: (options?: { tsconfig?: string }) => unknown };
  try {
    api = (await import('tsx/esm/api')) as typeof api;
  } catch {
    throw new Error(
      `${path} is TypeScript, which needs the tsx package to load: install it beside vaekit (\`npm install --save-dev tsx\`), or compile the plugin to .js`,
    );
  }
  const tsconfig = nearestTsconfig(dirname(path));
  api.register(tsconfig ? { tsconfig } : {});
  tsxRegistered = true;
}

/** The message of `e` followed by its causes (`e.cause`), each once. */
export function errorChain(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && c !== null && depth < 5; depth++) {
    const msg = c instanceof Error ? `${c.message}${(c as { code?: string }).code ? ` [${(c as { code?: string }).code}]` : ''}` : String(c);
    if (!parts.includes(msg)) parts.push(msg);
    c = c instanceof Error ? c.cause : undefined;
  }
  return parts.join('; caused by: ');
}

/** Imports the module at an absolute path (see the file comment); its errors carry their cause. */
export async function importPluginFile(absolute: string): Promise<{ default?: unknown }> {
  const ext = extname(absolute).toLowerCase();
  if (!TYPESCRIPT.has(ext) && !JAVASCRIPT.has(ext)) {
    throw new Error(`expected a .js, .mjs, .cjs, .ts, .mts or .cts file; got "${ext || 'no extension'}"`);
  }
  const url = pathToFileURL(absolute).href;
  try {
    return (await import(url)) as { default?: unknown };
  } catch (e) {
    if (!TYPESCRIPT.has(ext) || (e as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw new Error(errorChain(e));
  }
  // A TypeScript file and no loader yet: register tsx and import again, under another URL
  // (Node caches the failed load of the first).
  await registerTypeScript(absolute);
  try {
    return (await import(`${url}?ts`)) as { default?: unknown };
  } catch (e) {
    throw new Error(errorChain(e));
  }
}
