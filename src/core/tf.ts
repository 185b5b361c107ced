/**
 * The one tfjs namespace the library uses, re-exported so that a user's tensors and the
 * library's share one engine (`import { tf } from 'vaekit'`). Backends register themselves
 * into this engine (see src/backend).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export { tf };
