import { tf } from '../core/tf.js';
import { fastMatMulActive } from '../nn/mat-mul.js';

/**
 * Copy-free `Identity` and same-dtype `Cast` kernels for the wasm backend.
 *
 * While a gradient tape records, tfjs's engine saves every input and output a gradient needs
 * as `keep(clone(t))`, and tfjs's gradient code casts float32 tensors to float32
 * (`mul(dy, cast(b, 'float32'))`). On wasm both kernels copy the whole buffer; a 10-step planar
 * flow step makes ~1000 such copies per training step (`tf.profile`: 766 Identity, 257 Cast).
 * Tensors are immutable (a Variable's `assign` swaps its buffer, it never writes into one), so
 * these kernels can share the input's buffer with a reference count instead, as tfjs's cpu
 * backend does for Identity and wasm already does for Reshape. Values are unchanged bit for bit.
 *
 * Active while the wasm speed fixes are (`fastMatMulActive()`; `setFastMatMul(false)` turns
 * them off, giving tfjs's own kernels). Other dtype conversions use the original kernel.
 */
let installed = false;

interface KernelArgs {
  inputs: { x: tf.TensorInfo };
  attrs?: { dtype?: string };
  backend: { incRef(dataId: unknown): void };
}

function share(x: tf.TensorInfo, backend: KernelArgs['backend']): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Installs the kernels once the wasm backend's kernels are registered; returns whether they are installed. */
export function installWasmKernels(): boolean {
  if (installed) return true;
  const identity = tf.getKernel('Identity', 'wasm');
  const cast = tf.getKernel('Cast', 'wasm');
  if (!identity || !cast) return false;
  const replace = (original: tf.KernelConfig, kernelFunc: tf.KernelFunc) => {
    tf.unregisterKernel(original.kernelName, 'wasm');
    tf.registerKernel({ ...original, kernelFunc });
  };
  replace(identity, (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    if (!fastMatMulActive() || inputs.x.dtype === 'string') return identity.kernelFunc(args);
    return share(inputs.x, backend);
  });
  replace(cast, (args) => {
    const { inputs, attrs, backend } = args as unknown as KernelArgs;
    if (!fastMatMulActive() || attrs?.dtype !== inputs.x.dtype || inputs.x.dtype === 'string') return cast.kernelFunc(args);
    return share(inputs.x, backend);
  });
  installed = true;
  return true;
}
