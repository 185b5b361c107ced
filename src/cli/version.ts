/**
 * vaekit's own version, read from its package.json (found by walking up from this file: it sits
 * two folders up in the sources and three in dist/), never from `npm_package_version`, which npm
 * sets to the version of whichever project runs the command.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'vaekit' && typeof pkg.version === 'string') return pkg.version;
  }
  throw new Error(`vaekit's package.json was not found above ${fileURLToPath(import.meta.url)}`);
}
