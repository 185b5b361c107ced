/**
 * Registers tfjs-core's gradient definitions (side effect on import).
 *
 * The Node entry of `@tensorflow/tfjs-core` registers kernels' forward functions only; the
 * gradients live in the `@tensorflow/tfjs` union package (which tfjs-node loads). Without them
 * `tf.grad`, `tf.variableGrads` and `optimizer.minimize` throw "gradient function not found"
 * on the wasm and cpu backends. This registers tfjs-core's own gradient code (bundled from its
 * `dist/gradients`, see `gradients/generate.ts`) for every kernel that has none yet, so it
 * neither overrides nor warns when the union package is loaded as well.
 */
import { tf } from '../core/tf.js';
import { gradientConfigs } from './gradients/tfjs-gradients.generated.js';

let registered = 0;
for (const config of gradientConfigs as tf.GradConfig[]) {
  if (tf.getGradient(config.kernelName) == null) {
    tf.registerGradient(config);
    registered++;
  }
}

/** How many gradients this module registered (0 when another copy of tfjs had them all). */
export const registeredGradientCount = registered;
