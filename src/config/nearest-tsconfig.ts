import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The nearest tsconfig.json at or above `dir` — the settings of the project a TypeScript plugin
 * file belongs to (found from the file upward, not from the working directory) — if any.
 */
export function nearestTsconfig(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d, 'tsconfig.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(d) === d) return undefined;
  }
}

/** True for the file extensions that need a TypeScript loader (tsx) to import. */
export function isTypeScriptFile(path: string): boolean {
  return /\.(ts|mts|cts)$/i.test(path);
}
