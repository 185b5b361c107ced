import { tf } from '../core/tf.js';
import { installWasmKernels } from './wasm-kernels.js';
import { withSharedTfjsHeap } from './shared-heap.js';
import { installMatMulGradient } from '../nn/mat-mul.js';

export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/** The order `auto` tries: native libtensorflow, then the embedded wasm, then plain JS. */
export const AUTO_ORDER: readonly Exclude<BackendName, 'auto'>[] = ['tensorflow', 'wasm', 'cpu'];

// Node's process where there is one (this module also runs where there is none).
type HostProcess = { env: Record<string, string | undefined>; stderr?: { write(s: string): unknown } };
const host = (): HostProcess | undefined => (globalThis as { process?: HostProcess }).process;
const envVar = (name: string): string | undefined => host()?.env?.[name];

/** The backend the last selection settled on (null before the first one). */
let selected: string | null = null;
/** The backend whose name was last printed. */
let announced: string | null = null;
/** `ensureBackend`'s automatic selection while it runs. */
let automatic: Promise<string> | null = null;

async function tryTensorflow(): Promise<boolean> {
  try {
    // libtensorflow prints its CPU-feature banner on stderr unless told otherwise.
    const env = host()?.env;
    if (env && env.TF_CPP_MIN_LOG_LEVEL === undefined) env.TF_CPP_MIN_LOG_LEVEL = '2';
    // Optional dependency: present where its installer could download libtensorflow, or after
    // `npm run setup:native` (scripts/setup-native.mjs) built it from the tensorflow-cpu wheel.
    const name = '@tensorflow/tfjs-node';
    try {
      await import(/* @vite-ignore */ name);
    } finally {
      // tfjs-node requires @tensorflow/tfjs's CommonJS build; where that is a second copy beside
      // the ES build this module got (a bundler's choice), it registers tfjs's gradients over
      // ours, before tfjs-node looks for its addon, so also when loading then fails: put the
      // BatchMatMul one back (it is tfjs's own formula except on wasm).
      installMatMulGradient();
    }
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    // In Node, tfjs's heap is made a shared memory while it initialises (./shared-heap.ts).
    if (!(await withSharedTfjsHeap(() => tf.setBackend('wasm')))) return false;
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
    'install @tensorflow/tfjs-node@4.22.0 (its installer downloads libtensorflow), or build it from the tensorflow-cpu wheel with `npm run setup:native` (see README "Native backend")',
  wasm: 'install @tensorflow/tfjs-backend-wasm@4.22.0',
  cpu: 'the cpu backend ships with vaekit; reinstall the package',
};

/**
 * Select the tfjs backend: `auto` tries tfjs-node (native), then wasm (the embedded default),
 * then plain cpu. `VAEKIT_BACKEND` overrides the argument. Prints the choice once per process
 * (to stderr, unless `quiet` or `VAEKIT_QUIET=1`). Asking for a backend that cannot load is an
 * error. Once called, `ensureBackend` keeps this choice.
 */
export async function selectBackend(
  requested: BackendName | string = 'auto',
  { quiet = false }: { quiet?: boolean } = {},
): Promise<string> {
  const env = envVar('VAEKIT_BACKEND');
  const choice = (env && env.length > 0 ? env : requested) as BackendName;
  const source = env && env.length > 0 ? 'VAEKIT_BACKEND' : 'backend';
  if (!BACKEND_NAMES.includes(choice)) {
    throw new Error(
      `${source}: unknown backend ${JSON.stringify(choice)}; expected one of ${BACKEND_NAMES.join(', ')}`,
    );
  }
  const order = choice === 'auto' ? AUTO_ORDER : [choice];
  for (const name of order) {
    if (tf.getBackend() === name && tf.findBackend(name)) {
      selected = name;
      return name;
    }
    if (await loaders[name]()) {
      await tf.ready();
      if (announced !== name && !quiet && envVar('VAEKIT_QUIET') !== '1') {
        const line = `vaekit: using the ${name} backend\n`;
        const stderr = host()?.stderr;
        if (stderr) stderr.write(line);
        else console.warn(line.trimEnd());
      }
      announced = name;
      selected = name;
      return name;
    }
  }
  const only = order[0]!;
  throw new Error(
    `${source}: the ${JSON.stringify(only)} backend is not available on this machine; ${installHint[only]}`,
  );
}

/**
 * The backend vaekit's async entry points (`train`, `loadVae`, the evaluations) run on: the one
 * `selectBackend` settled on when it was called (by the user, the CLI or an earlier call here),
 * else `selectBackend('auto')`, once per process — `VAEKIT_BACKEND` still decides when set, and
 * the choice is printed once on stderr unless `quiet` or `VAEKIT_QUIET=1`. Concurrent callers
 * share the one selection.
 *
 * tfjs initialises the wasm backend asynchronously, so synchronous calls (`createVae`, tensor
 * ops) cannot select it themselves: what they create before the first selection lives on tfjs's
 * default (cpu) and moves to the selected backend when it is next used there.
 * `await ensureBackend()` first to create it there directly.
 */
export function ensureBackend({ quiet = false }: { quiet?: boolean } = {}): Promise<string> {
  if (selected !== null) return Promise.resolve(tf.getBackend());
  automatic ??= selectBackend('auto', { quiet }).finally(() => {
    automatic = null;
  });
  return automatic;
}

/** The backend the last selection settled on, or null when none has run in this process. */
export function selectedBackend(): string | null {
  return selected;
}
