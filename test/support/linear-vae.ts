import { createVae, tf } from '../../plugins/index.js';
import type { Vae } from '../../src/index.js';
import type { LinearGaussianModel } from '../../src/data/linear-gaussian.js';

/**
 * A VAE whose linear Gaussian decoder is `model` (W, b, σ fixed) and whose linear Gaussian encoder
 * outputs the model's exact posterior (W with orthogonal columns: M diagonal), then shifted:
 * mean + `meanShift`, log-std + `logStdShift` (0 and 0: q = p(z|x) exactly).
 */
export function linearVae(model: LinearGaussianModel, { meanShift = 0, logStdShift = 0, seed = 3 } = {}): Vae {
  const P = model.dataDim;
  const D = model.latentDim;
  const sigma = model.sigma;
  const vae = createVae({
    latentDim: D,
    dataDim: P,
    encoder: { type: 'gaussian', hidden: [] },
    likelihood: { type: 'gaussian', hidden: [], variance: 'fixed', sigma },
    seed,
  });
  const M = model.M.data;
  const A = new Float32Array(P * D);
  const c = new Float32Array(D);
  const logStd = new Float32Array(D);
  for (let j = 0; j < D; j++) {
    const mjj = M[j * D + j]!;
    for (let i = 0; i < P; i++) A[i * D + j] = model.W[i * D + j]! / mjj;
    c[j] = meanShift;
    for (let i = 0; i < P; i++) c[j] = c[j]! - A[i * D + j]! * model.b[i]!;
    logStd[j] = 0.5 * Math.log((sigma * sigma) / mjj) + logStdShift;
  }
  const Wt = new Float32Array(D * P);
  for (let i = 0; i < P; i++) for (let j = 0; j < D; j++) Wt[j * P + i] = model.W[i * D + j]!;
  const ts = {
    'encoder/mean/kernel': tf.tensor2d(A, [P, D]),
    'encoder/mean/bias': tf.tensor1d(c),
    'encoder/logStd/kernel': tf.zeros([P, D]),
    'encoder/logStd/bias': tf.tensor1d(logStd),
    'likelihood/net/0/kernel': tf.tensor2d(Wt, [D, P]),
    'likelihood/net/0/bias': tf.tensor1d(Float32Array.from(model.b)),
  };
  vae.setWeights(ts);
  tf.dispose(Object.values(ts));
  return vae;
}
