/**
 * The API reference (TypeDoc, `npm run docs` → docs/api/) builds from the doc comments of the
 * `vaekit` and `vaekit/testing` entries without a warning (typedoc.json treats warnings as errors:
 * a type in a public signature that is not exported, a broken {@link}, …). Validation only
 * (`--emit none`): about 30 s of CPU.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('builds the API reference with TypeDoc without warnings', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../node_modules/typedoc/bin/typedoc', import.meta.url)), '--emit', 'none'], { cwd: root, encoding: 'utf8' });
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/\[(warning|error)\]/);
  expect(r.status).toBe(0);
});
