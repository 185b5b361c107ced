import { createVae, setKernelThreads, tf, trainingLoss } from '../../plugins/index.js';
import { binaryBatch, DIM, HIDDEN, LATENT } from './data.js';
import type { ProfileRow } from './types.js';
import type { Stepper } from './steppers.js';

/** Kernel names of matrix products: tfjs's BatchMatMul / _FusedMatMul and vaekit's product kernels (`Vaekit…MatMul`). */
const isProduct = (name: string) => name === 'BatchMatMul' || name === '_FusedMatMul' || /^Vaekit.*(MatMul|Gemm)/i.test(name);

/**
 * Multiply-adds in the matrix products of one call of `f`, from the shapes of its product
 * kernels (tf.profile): out `[…, M, N]` from a with M·K elements per batch entry.
 */
export async function matmulMacs(f: () => void): Promise<number> {
  const info = await tf.profile(f);
  const size = (shape: number[]) => shape.reduce((p, q) => p * q, 1);
  let macs = 0;
  for (const k of info.kernels) {
    if (!isProduct(k.name)) continue;
    const out = k.outputShapes[0]!;
    const rows = out[out.length - 2]!;
    const batch = size(out) / (rows * out[out.length - 1]!);
    macs += size(out) * (size(k.inputShapes[0]!) / (batch * rows));
  }
  return macs;
}

/** Multiply-adds of one training step (gradients of the ELBO objective: forward and backward products). */
export async function stepMacs(config: Parameters<typeof createVae>[0], batch: number): Promise<number> {
  const vae = createVae(config);
  const x = binaryBatch(batch, batch);
  const variables = vae.variables().map((v) => v.variable);
  try {
    return await matmulMacs(() => {
      const { value, grads } = tf.variableGrads(() => trainingLoss(vae, x, { type: 'elbo' as const, samples: 1 }, 1), variables);
      tf.dispose([value, ...Object.values(grads)]);
    });
  } finally {
    x.dispose();
    vae.dispose();
  }
}

/** CPU ms of one block of `n` calls of `f`, per call. */
function cpuMs(f: () => void, n: number): number {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const c = process.cpuUsage(t);
  return (c.user + c.system) / 1000 / n;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/**
 * Where a gaussian/bernoulli step's time goes: forward (the objective), backward (its gradients
 * minus the forward), and the rest of a `train` step (Adam, batch upload, loss reads), from the
 * training stepper's CPU ms per step, all on one kernel thread; and the GFLOP/s of the products
 * over the whole step.
 */
export async function profileStep(backend: string, batch: number, quick: boolean, stepper: Stepper): Promise<ProfileRow> {
  const config = { latentDim: LATENT, dataDim: DIM, encoder: { type: 'gaussian', hidden: HIDDEN }, prior: { type: 'standard-normal' }, likelihood: { type: 'bernoulli', hidden: HIDDEN }, seed: 1 };
  const vae = createVae(config);
  const x = binaryBatch(batch, 2);
  const variables = vae.variables().map((v) => v.variable);
  const objective = { type: 'elbo' as const, samples: 1 };
  const n = quick ? 1 : Math.max(2, Math.round(2000 / batch));
  const repeats = quick ? 1 : 5;
  const lossOnly = () => tf.dispose(trainingLoss(vae, x, objective, 1));
  const withGrads = () => {
    const { value, grads } = tf.variableGrads(() => trainingLoss(vae, x, objective, 1), variables);
    tf.dispose([value, ...Object.values(grads)]);
  };
  // The three are measured in interleaved blocks (a drift of the machine's speed affects all
  // three alike; measured one after the other, the parts could add up to more than the step), on
  // one kernel thread as the stepper's steps: CPU time of the process is then one core's work.
  const parts = { forward: [] as number[], grads: [] as number[], step: [] as number[] };
  try {
    for (let r = 0; r <= repeats; r++) {
      setKernelThreads(1);
      let forward: number, grads: number;
      try {
        forward = cpuMs(lossOnly, n);
        grads = cpuMs(withGrads, n);
      } finally {
        setKernelThreads(null);
      }
      const step = (await stepper.run(n)).cpuMs / n;
      if (r === 0) continue; // warm-up
      parts.forward.push(forward);
      parts.grads.push(grads);
      parts.step.push(step);
    }
  } finally {
    vae.dispose();
    x.dispose();
  }
  const forward = median(parts.forward);
  const grads = median(parts.grads);
  const total = median(parts.step);
  const macs = await stepMacs(config, batch);
  return { backend, batch, forward, backward: grads - forward, adam: total - grads, total, gflops: (2 * macs) / (total * 1e6) };
}
