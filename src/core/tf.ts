/**
 * The one tfjs namespace the library uses, re-exported so that a user's tensors and the
 * library's share one engine (`import { tf } from 'vaekit'`). Backends register themselves
 * into this engine (see src/backend).
 *
 * The union package is imported (not tfjs-core alone) because tfjs-core's Node entry does not
 * register the ops' gradients; the union's does, and tfjs-node builds on the same package.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
