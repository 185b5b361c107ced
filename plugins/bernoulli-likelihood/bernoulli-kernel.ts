import { tf, HostWasm, decodeBase64, hostKernelAvailable, registerHostKernel, runHostKernel } from '../../src/index.js';
import { BERNOULLI_WASM_BASE64 } from './bernoulli-wasm.js';

/**
 * The Bernoulli log-likelihood from logits as one kernel (wasm and cpu), in place of the seven
 * elementwise ops and the sum of the tfjs-op form:
 *
 *   log p(x|l) = −Σ_p [max(l_p, 0) − x_p·l_p + log(1 + e^−|l_p|)],   ∂/∂l_p = x_p − σ(l_p).
 *
 * Shapes: l `[N, P]` with N = K·B (row n scores data row n mod B), x `[B, P]` → `[N]`. Terms
 * are float32 SIMD (exp and log1p as polynomials inside the module, relative error < 2e-7), summed
 * in four float32 lanes per row: values agree with the closed form to 1e-6 of Σ_p(|term| + |x·l|)
 * and with the op form to 2e-6 of it (tested; the op form rounds in float32 too). The gradient
 * w.r.t. l is a second kernel, dl = dy·(x − σ(l)), within 1e-6 of the op form's (at l = 0 it is
 * x − ½ where tfjs's autodiff of the op form takes the subgradient −x); w.r.t. x it is
 * Σ_k dy·l in tfjs ops (computed only when x needs a gradient, which data does not).
 */
export const BERNOULLI_LOG_PROB_KERNEL = 'VaekitBernoulliLogProb';
export const BERNOULLI_LOG_PROB_GRAD_KERNEL = 'VaekitBernoulliLogProbGrad';

const wasm = new HostWasm(decodeBase64(BERNOULLI_WASM_BASE64), {});
/** The module's vector constants (17 slots of 16 bytes: `CONSTANTS` in the AssemblyScript source), in float64 work elements. */
export const BERNOULLI_CONSTANTS = 2 * 17;

function dims(l: readonly number[], x: readonly number[], kernel: string): { n: number; b: number; p: number } {
  if (l.length !== 2 || x.length !== 2 || l[1] !== x[1] || x[0]! < 1 || l[0]! % x[0]! !== 0) {
    throw new Error(`${kernel}: expected logits [K·B, P] and x [B, P]; got [${l.join(', ')}] and [${x.join(', ')}]`);
  }
  return { n: l[0]!, b: x[0]!, p: l[1]! };
}

registerHostKernel({
  name: BERNOULLI_LOG_PROB_KERNEL,
  inputs: ['l', 'x'],
  outputShapes: ([l, x]) => [[dims(l!, x!, BERNOULLI_LOG_PROB_KERNEL).n]],
  workspace: () => BERNOULLI_CONSTANTS,
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const { n, b, p } = dims(shapes[0]!, shapes[1]!, BERNOULLI_LOG_PROB_KERNEL);
    // On a shared heap, large ones in chunks of rows over the kernel threads (each row's sum as in one call: the same bits).
    if (wasm.runSplit('forwardRows', memory, { inputs, outputs, work }, [n, b, p, 0, n], 3, [0, n], 1, p)) return;
    wasm.run('forward', memory, { inputs, outputs, work }, [n, b, p]);
  },
});

registerHostKernel({
  name: BERNOULLI_LOG_PROB_GRAD_KERNEL,
  inputs: ['l', 'x', 'dy'],
  outputShapes: ([l, x, dy]) => {
    const { n } = dims(l!, x!, BERNOULLI_LOG_PROB_GRAD_KERNEL);
    if (dy!.length !== 1 || dy![0] !== n) throw new Error(`${BERNOULLI_LOG_PROB_GRAD_KERNEL}: expected dy [${n}]; got [${dy!.join(', ')}]`);
    return [l!.slice()];
  },
  workspace: () => BERNOULLI_CONSTANTS,
  compute: (inputs, outputs, shapes, _attrs, { work, memory }) => {
    const { n, b, p } = dims(shapes[0]!, shapes[1]!, BERNOULLI_LOG_PROB_GRAD_KERNEL);
    if (wasm.runSplit('backwardRows', memory, { inputs, outputs, work }, [n, b, p, 0, n], 3, [0, n], 1, p)) return;
    wasm.run('backward', memory, { inputs, outputs, work }, [n, b, p]);
  },
});

tf.registerGradient({
  kernelName: BERNOULLI_LOG_PROB_KERNEL,
  inputsToSave: ['l', 'x'],
  gradFunc: (dy, saved) => {
    const [l, x] = saved as [tf.Tensor2D, tf.Tensor2D];
    const d = dy as tf.Tensor1D;
    return {
      l: () => runHostKernel(BERNOULLI_LOG_PROB_GRAD_KERNEL, { l, x, dy: d })[0]!,
      x: () => {
        const [n, p] = l.shape;
        const b = x.shape[0];
        return tf.sum(tf.mul(tf.reshape(l, [n / b, b, p]), tf.reshape(d, [n / b, b, 1])), 0);
      },
    };
  },
});

/** Whether the kernel runs on the current backend (wasm or cpu, speed fixes on). */
export function bernoulliKernelAvailable(): boolean {
  return hostKernelAvailable(BERNOULLI_LOG_PROB_KERNEL);
}

/** log p(x | logits l) per row: l `[N, P]`, x `[B, P]`, N = K·B → `[N]` (call where `bernoulliKernelAvailable()`). */
export function bernoulliLogProb(l: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D {
  return runHostKernel(BERNOULLI_LOG_PROB_KERNEL, { l, x })[0] as tf.Tensor1D;
}
