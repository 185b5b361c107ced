export { Random, tf } from '../../plugins/index.js';
export { StandardNormalPrior as StandardNormalPriorForTest } from '../../plugins/standard-normal-prior/standard-normal-prior.js';
