/**
 * Writes the config's JSON Schema (schema/vaekit-config.schema.json) and reference
 * (docs/config.md) from the zod schema and the built-in plugins' option schemas
 * (src/config/config-reference.ts). `npm run config-schema`; `--check` only compares and exits 1
 * when a file differs (test/config/config-schema.test.ts does the same).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createContainer, PluginRegistry } from '../plugins/index.js';
import { configJsonSchema, configReferenceMarkdown } from '../src/config/config-reference.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The generated files, by path from the repository root. */
export function configReferenceFiles(): Record<string, string> {
  const factories = createContainer().get(PluginRegistry).all();
  return {
    'schema/vaekit-config.schema.json': `${JSON.stringify(configJsonSchema(factories), null, 2)}\n`,
    'docs/config.md': configReferenceMarkdown(factories),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [path, text] of Object.entries(configReferenceFiles())) {
    let old = '';
    try {
      old = readFileSync(`${root}/${path}`, 'utf8');
    } catch {}
    if (old === text) continue;
    stale++;
    if (check) process.stderr.write(`${path} is not what \`npm run config-schema\` writes\n`);
    else writeFileSync(`${root}/${path}`, text), process.stderr.write(`wrote ${path}\n`);
  }
  process.exit(check && stale ? 1 : 0);
}
