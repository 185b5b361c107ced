import { defineConfig } from 'vitest/config';

export default defineConfig({
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
