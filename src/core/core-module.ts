import { ContainerModule } from 'inversify';
import { KlRule, diagonalGaussianStandardNormalKl } from './kl-rule.js';
import { Vae } from './vae.js';

/** The core's own bindings: the Vae and the built-in closed-form KL rules. */
export const coreModule = new ContainerModule(({ bind }) => {
  bind(KlRule).toConstantValue(diagonalGaussianStandardNormalKl);
  bind(Vae).toSelf().inSingletonScope();
});
