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
    // Tests that skip themselves (a missing Debian package, another backend) are listed with
    // their reason after the run. In CI a JSON report as well, from which .ci/run prints the
    // plain "N passed, N failed, N skipped" line.
    reporters: [
      'default',
      './test/support/skip-reporter.ts',
      ...(process.env.CI ? [['json', { outputFile: process.env.VAEKIT_TEST_REPORT || '.vitest-results.json' }] as const] : []),
    ],
  },
});
