import { tf } from '../core/tf.js';
import { installWasmKernels } from './wasm-kernels.js';
import { installMatMulGradient } from '../nn/mat-mul.js';

export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

let announced: string | null = null;

async function tryTensorflow(): Promise<boolean> {
  try {
    // Optional dependency: present only where its installer could download libtensorflow.
    const name = '@tensorflow/tfjs-node';
    await import(/* @vite-ignore */ name);
    // tfjs-node loads @tensorflow/tfjs, which registers tfjs's gradients over ours: put the
    // BatchMatMul one back (it is tfjs's own formula except on wasm).
    installMatMulGradient();
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) return false;
    // Backend-specific speed fixes (see src/nn/mat-mul.ts and ./wasm-kernels.ts).
    installWasmKernels();
    return true;
  } catch {
    return false;
  }
}

async function tryCpu(): Promise<boolean> {
  return tf.setBackend('cpu');
}

const loaders: Record<Exclude<BackendName, 'auto'>, () => Promise<boolean>> = {
  tensorflow: tryTensorflow,
  wasm: tryWasm,
  cpu: tryCpu,
};

const installHint: Record<Exclude<BackendName, 'auto'>, string> = {
  tensorflow:
    'install @tensorflow/tfjs-node@4.22.0 (its installer downloads libtensorflow; see README "Native backend")',
  wasm: 'install @tensorflow/tfjs-backend-wasm@4.22.0',
  cpu: 'the cpu backend ships with vaekit; reinstall the package',
};

/**
 * Select the tfjs backend: `auto` tries tfjs-node (native), then wasm (the embedded default),
 * then plain cpu. `VAEKIT_BACKEND` overrides the argument. Prints the choice once per process
 * (to stderr, unless `quiet`). Asking for a backend that cannot load is an error.
 */
export async function selectBackend(
  requested: BackendName | string = 'auto',
  { quiet = false }: { quiet?: boolean } = {},
): Promise<string> {
  const env = process.env.VAEKIT_BACKEND;
  const choice = (env && env.length > 0 ? env : requested) as BackendName;
  const source = env && env.length > 0 ? 'VAEKIT_BACKEND' : 'backend';
  if (!BACKEND_NAMES.includes(choice)) {
    throw new Error(
      `${source}: unknown backend ${JSON.stringify(choice)}; expected one of ${BACKEND_NAMES.join(', ')}`,
    );
  }
  const order: Exclude<BackendName, 'auto'>[] =
    choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
  for (const name of order) {
    if (tf.getBackend() === name && tf.findBackend(name)) return name;
    if (await loaders[name]()) {
      await tf.ready();
      if (announced !== name && !quiet && process.env.VAEKIT_QUIET !== '1') {
        process.stderr.write(`vaekit: using the ${name} backend\n`);
      }
      announced = name;
      return name;
    }
  }
  const only = order[0]!;
  throw new Error(
    `${source}: the ${JSON.stringify(only)} backend is not available on this machine; ${installHint[only]}`,
  );
}
