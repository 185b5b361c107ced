/**
 * `vaekit/testing`: the checks vaekit's own tests run on every plugin, for your plugins, with any
 * test runner (they throw or return results; no vitest needed):
 *
 *   import { assertFlowStep, assertPrior, assertLikelihood, assertEncoder } from 'vaekit/testing';
 *   assertPrior('laplace', { make: (D, random) => new LaplacePrior(D, 1, random) });   // throws PluginCheckError on failure
 *
 * `checkX(options)` returns one `{ name, passed, detail }` per check instead of throwing;
 * `xChecks(options)` gives the checks themselves (one test case each: `for (const c of priorChecks(o)) it(c.name, c.run)`).
 */
export { CheckFailure, PluginCheckError, runChecks, assertChecks, type PluginCheck, type CheckResult } from './check.js';
export { checkImportanceIdentity, type Support } from './importance-identity.js';
export { autodiffJacobian, logAbsDet, randomizeVariables } from './jacobian.js';
export { flowStepChecks, checkFlowStep, assertFlowStep, type FlowStepCheckOptions } from './flow-step-checks.js';
export { priorChecks, checkPrior, assertPrior, type PriorCheckOptions } from './prior-checks.js';
export { likelihoodChecks, checkLikelihood, assertLikelihood, type LikelihoodCheckOptions } from './likelihood-checks.js';
export { encoderChecks, checkEncoder, assertEncoder, type EncoderCheckOptions } from './encoder-checks.js';
export { buildPlugin, type BuildPluginOptions } from './build-plugin.js';
