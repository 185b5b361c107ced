/**
 * The generic flow-step harness as vitest cases: one call per step registers the checks every
 * `FlowStep` must pass, one `it` each. The checks themselves are `vaekit/testing`'s
 * `flowStepChecks` (src/testing/flow-step-checks.ts, where they are described), so plugin authors
 * run the very same ones:
 *
 *   describeFlowStep('planar (amortised)', { make: (D, C, random) => new PlanarFlow(D, C, random), inverse: false });
 */
import { describe, it } from 'vitest';
import { flowStepChecks, type FlowStepCheckOptions } from '../../src/testing/index.js';

export { autodiffJacobian, logAbsDet, randomizeVariables } from '../../src/testing/index.js';
export type FlowStepHarnessOptions = FlowStepCheckOptions;

/** Registers the shared checks for one step. */
export function describeFlowStep(title: string, o: FlowStepHarnessOptions): void {
  describe(`flow step harness: ${title}`, () => {
    for (const c of flowStepChecks(o)) it(c.name, () => void c.run());
  });
}
