import type { Reporter, TestModule } from 'vitest/node';

/**
 * After the run, lists every test that skipped itself with a reason (`ctx.skip(reason)`, see
 * ./requires.ts): what this machine or backend did not test, and what would make it run.
 */
export default class SkipReasonReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const r = t.result();
        if (r.state === 'skipped' && r.note) lines.push(`  ${m.relativeModuleId} > ${t.fullName}: ${r.note}`);
      }
    }
    if (lines.length > 0) process.stdout.write(`\nSkipped, with the reason (${lines.length}):\n${lines.join('\n')}\n\n`);
  }
}
