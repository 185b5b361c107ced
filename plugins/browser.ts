/**
 * The browser-safe package entry (`vaekit` in a browser bundle): the public API of src/index.ts
 * with the built-in plugins registered; ./index.ts adds the Node-only API to it for Node.
 * (The core never imports a plugin; this file is where the two meet. Add a built-in plugin by
 * importing its module here and listing it in `builtinPlugins`.)
 */
import type { ContainerModule } from 'inversify';
import { registerBuiltinPlugins } from '../src/index.js';
import gaussianEncoder from './gaussian-encoder/gaussian-encoder-module.js';
import standardNormalPrior from './standard-normal-prior/standard-normal-prior-module.js';
import bernoulliLikelihood from './bernoulli-likelihood/bernoulli-likelihood-module.js';
import gaussianLikelihood from './gaussian-likelihood/gaussian-likelihood-module.js';
import hierarchicalEncoder from './hierarchical-encoder/hierarchical-encoder-module.js';
import twoLevelEncoder from './two-level-encoder/two-level-encoder-module.js';
import twoLevelPrior from './two-level-prior/two-level-prior-module.js';
import planarFlow from './planar-flow/planar-flow-module.js';
import realNvpFlow from './realnvp-flow/realnvp-flow-module.js';
import flowEncoder from './flow-encoder/flow-encoder-module.js';
import mixtureEncoder from './mixture-encoder/mixture-encoder-module.js';

export * from '../src/index.js';

export const builtinPlugins: readonly ContainerModule[] = [
  gaussianEncoder,
  standardNormalPrior,
  bernoulliLikelihood,
  gaussianLikelihood,
  hierarchicalEncoder,
  twoLevelEncoder,
  twoLevelPrior,
  planarFlow,
  realNvpFlow,
  flowEncoder,
  mixtureEncoder,
];

registerBuiltinPlugins(builtinPlugins, import.meta.url);
