import { createRequire } from 'node:module';
import { tf } from '../../src/core/tf.js';

/**
 * `@tensorflow/tfjs-core` does not register its gradient functions on import (the umbrella
 * `@tensorflow/tfjs` package does, via `dist/register_all_gradients.js`), and that file's ESM
 * imports are extensionless, so Node cannot load it directly. When no gradient is registered
 * (probe: `Neg`), this bundles that file with esbuild (a dependency of tsx) and imports it:
 * tfjs keeps its kernel and gradient registries and its engine in globals, so the bundled copy
 * registers into the same engine the library uses. A no-op once the core registers gradients.
 */
export async function ensureGradients(): Promise<void> {
  if (tf.getGradient('Neg') !== undefined) return;
  const require = createRequire(import.meta.url);
  const esbuild = require('esbuild') as typeof import('esbuild');
  const entry = require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  const out = esbuild.buildSync({ entryPoints: [entry], bundle: true, format: 'esm', write: false, platform: 'node', logLevel: 'silent' });
  const saved = tf.env().getFlags();
  void saved;
  await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0]!.text).toString('base64')}`);
}
