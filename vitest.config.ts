import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Files written as a user would (docs/examples) import 'vaekit'; in the repo that is the sources.
  resolve: {
    alias: [
      { find: /^vaekit$/, replacement: fileURLToPath(new URL('./plugins/index.ts', import.meta.url)) },
      { find: /^vaekit\/testing$/, replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    // Model-training tests are CPU-bound; two forks use the two cores of the CI machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    env: { VAEKIT_QUIET: '1' },
    // In CI a JSON report as well, from which .ci/run prints the plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
