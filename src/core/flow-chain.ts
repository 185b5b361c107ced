import { tf } from './tf.js';
import { flowStepCount, flowStepPrefix, isStackedFlowStep, type FlowResult, type StackedFlowStep, type FlowStep } from './flow-step.js';
import { prefixed, type NamedVariable } from './variables.js';

/**
 * A chain of flow steps is itself a flow step (nflows' `CompositeTransform`):
 *
 *   f = f_N ∘ … ∘ f_1,   log|det ∂f/∂z| = Σ_n log|det ∂f_n/∂z_{n−1}|,
 *   f⁻¹ = f_1⁻¹ ∘ … ∘ f_N⁻¹ with the inverse log-dets summed the same way.
 *
 * Entries may be stacked steps (`StackedFlowStep`, e.g. planar's, standing for several steps of
 * one config entry, evaluated as one unit); `count` is the number of steps they stand for in all
 * and `forwardEach` gives every step's log-det `[K, B, count]` in order. The inverse exists when
 * every entry has one (an entry without throws its `NoInverseError`). Weights are named by the
 * range of steps each entry covers: `<first>/…`, or `<first>-<last>/…` for a stacked entry.
 * The chain owns its entries: `dispose` releases them.
 */
export class FlowChain implements StackedFlowStep {
  readonly name = 'chain';
  /** Number of steps the chain stands for (Σ of its entries' counts). */
  readonly count: number;
  /** Index of each entry's first step. */
  private readonly starts: number[];

  constructor(readonly entries: readonly FlowStep[]) {
    this.starts = [];
    let n = 0;
    for (const e of entries) {
      this.starts.push(n);
      n += flowStepCount(e);
    }
    this.count = n;
  }

  /** z after every entry and each step's log-det `[K, B, count]` (z unchanged and `[K, B, 0]` when empty). */
  forwardEach(z0: tf.Tensor3D, context?: tf.Tensor2D): { z: tf.Tensor3D; logDets: tf.Tensor3D } {
    return tf.tidy(() => {
      let z = z0;
      const parts: tf.Tensor3D[] = [];
      for (const step of this.entries) {
        if (isStackedFlowStep(step)) {
          const r = step.forwardEach(z, context);
          z = r.z;
          parts.push(r.logDets);
        } else {
          const r = step.forward(z, context);
          z = r.z;
          parts.push(tf.expandDims(r.logDet, 2) as tf.Tensor3D);
        }
      }
      const logDets = parts.length === 0 ? tf.zeros([z0.shape[0], z0.shape[1], 0]) : parts.length === 1 ? parts[0]! : tf.concat(parts, 2);
      return { z, logDets } as unknown as tf.TensorContainerObject;
    }) as unknown as { z: tf.Tensor3D; logDets: tf.Tensor3D };
  }

  /** f(z) and log|det ∂f/∂z| `[K, B]`, the entries' log-dets added in order (0 when empty). */
  forward(z0: tf.Tensor3D, context?: tf.Tensor2D): FlowResult {
    return tf.tidy(() => {
      let z = z0;
      let logDet: tf.Tensor2D | null = null;
      for (const step of this.entries) {
        const r = step.forward(z, context);
        z = r.z;
        logDet = logDet ? (tf.add(logDet, r.logDet) as tf.Tensor2D) : r.logDet;
      }
      return { z, logDet: logDet ?? tf.zeros([z0.shape[0], z0.shape[1]]) } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
  }

  /** f⁻¹(z) and log|det ∂f⁻¹/∂z| `[K, B]`, through the entries' inverses in reverse order. */
  inverse(z: tf.Tensor3D, context?: tf.Tensor2D): FlowResult {
    return tf.tidy(() => {
      let cur = z;
      let logDet: tf.Tensor = tf.zeros(z.shape.slice(0, 2));
      for (let i = this.entries.length - 1; i >= 0; i--) {
        const r = this.entries[i]!.inverse(cur, context);
        cur = r.z;
        logDet = tf.add(logDet, r.logDet);
      }
      return { z: cur, logDet } as unknown as tf.TensorContainerObject;
    }) as unknown as FlowResult;
  }

  variables(): NamedVariable[] {
    return this.entries.flatMap((step, i) => prefixed(flowStepPrefix('', this.starts[i]!, flowStepCount(step)).slice(1), step.variables()));
  }

  dispose(): void {
    for (const step of this.entries) step.dispose();
  }
}
