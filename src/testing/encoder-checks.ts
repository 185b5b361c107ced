/**
 * The checks every `Encoder` must pass, for D = `latentDim` (default 2) and rows of width
 * P = `dataDim` (default 6), x drawn uniformly from [0, 1] unless `data` is given:
 *  - `latentDim` = D; shapes: params(x) `[B, L]`, sample(x, K) and sampleFromParams(params(x), K):
 *    z `[K, B, D]`, logQ `[K, B]`; mode(x) `[B, D]`;
 *  - its logQ is the normalised log-density of its samples (for an auxiliary-variable family the
 *    joint estimate log q(u, z|x) − log r(u|z, x), whose importance identity also holds): the
 *    importance identity E_q[r(z)/q(z|x)] = 1 over `samples` draws for one row;
 *  - reparameterised: the gradient of the mean of z with respect to the encoder's variables is
 *    finite and not all zero, and so is that of the mean of logQ;
 *  - no tensor leaks across repeated params, sample and mode calls.
 *
 *   assertEncoder('my-encoder', { make: (D, P, random) => new MyEncoder(D, P, random) });
 */
import { tf } from '../core/tf.js';
import { Random } from '../core/random.js';
import type { Encoder } from '../core/encoder.js';
import { allFinite, assertChecks, CheckFailure, checkNoLeak, ensure, ensureShape, rejectUnknownKeys, runChecks, type CheckResult, type PluginCheck } from './check.js';
import { checkImportanceIdentity } from './importance-identity.js';

export interface EncoderCheckOptions {
  /** Builds the encoder for latent dimension D and data width P. */
  make(latentDim: number, dataDim: number, random: Random): Encoder;
  /** D (default 2). */
  latentDim?: number;
  /** P (default 6). */
  dataDim?: number;
  /** Rows of data, `[rows, P]` row-major (default: uniform on [0, 1]). */
  data?(rows: number, dataDim: number, random: Random): Float32Array;
  /** Draws for the importance identity (default 20000). */
  samples?: number;
  /** Smallest allowed deviation of E[r/q] from 1 (default 0.02). */
  tolerance?: number;
  /** Seed (default 7). */
  seed?: number;
}

const KNOWN = new Set(['make', 'latentDim', 'dataDim', 'data', 'samples', 'tolerance', 'seed']);

export function encoderChecks(o: EncoderCheckOptions): PluginCheck[] {
  rejectUnknownKeys('encoderChecks', o, KNOWN);
  const d = o.latentDim ?? 2;
  const p = o.dataDim ?? 6;
  const n = o.samples ?? 20000;
  const seed = o.seed ?? 7;
  const rowsOf = (rows: number, random: Random) => tf.tensor2d(o.data ? o.data(rows, p, random) : random.fillUniform(new Float32Array(rows * p)), [rows, p]);
  const withEncoder = (salt: number, body: (e: Encoder, x: tf.Tensor2D, random: Random) => string): string => {
    const random = new Random(seed * 1000 + salt);
    const e = o.make(d, p, random);
    const x = rowsOf(4, random);
    try {
      return body(e, x, random);
    } finally {
      e.dispose();
      x.dispose();
    }
  };
  return [
    {
      name: `has latentDim = ${d} and gives z [K, B, D], logQ [K, B], params [B, L], mode [B, D]`,
      run: () =>
        withEncoder(1, (e, x) => {
          ensure(e.latentDim === d, () => `latentDim: expected ${d}; got ${e.latentDim}`);
          const lambda = e.params(x);
          const a = e.sample(x, 3);
          const b = e.sampleFromParams(lambda, 3);
          const m = e.mode(x);
          try {
            ensure(lambda.rank === 2 && lambda.shape[0] === 4, () => `params: expected shape [4, L]; got [${lambda.shape.join(', ')}]`);
            ensureShape('sample z', a.z, [3, 4, d]);
            ensureShape('sample logQ', a.logQ, [3, 4]);
            ensureShape('sampleFromParams z', b.z, [3, 4, d]);
            ensureShape('sampleFromParams logQ', b.logQ, [3, 4]);
            ensureShape('mode', m, [4, d]);
            ensure(allFinite(a.z, a.logQ, b.z, b.logQ, m), () => 'NaN or ±Infinity in z, logQ or mode');
            return `L = ${lambda.shape[1]}`;
          } finally {
            tf.dispose([lambda, a.z, a.logQ, b.z, b.logQ, m]);
            if (a.posterior) tf.dispose(Object.values(a.posterior.params));
            if (b.posterior) tf.dispose(Object.values(b.posterior.params));
          }
        }),
    },
    {
      name: 'samples z from the normalised density its logQ gives (importance identity)',
      run: () =>
        withEncoder(2, (e, x) => {
          const row = tf.slice(x, [0, 0], [1, p]);
          const s = e.sample(row, n);
          if (s.posterior) tf.dispose(Object.values(s.posterior.params));
          try {
            return checkImportanceIdentity(s.z.dataSync() as Float32Array, s.logQ.dataSync() as Float32Array, d, 'real', o.tolerance);
          } finally {
            tf.dispose([row, s.z, s.logQ]);
          }
        }),
    },
    {
      name: 'is reparameterised: z and logQ have finite, non-zero gradients in the encoder variables',
      run: () =>
        withEncoder(3, (e, x) => {
          const vars = e.variables().map((v) => v.variable);
          ensure(vars.length > 0, () => 'the encoder has no variables to train');
          for (const what of ['z', 'logQ'] as const) {
            const zero = () => `∂ mean(${what})/∂φ is zero: the samples are not reparameterised (gradients do not flow through ${what})`;
            let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
            try {
              result = tf.variableGrads(() => {
                const s = e.sample(x, 16);
                if (s.posterior) tf.dispose(Object.values(s.posterior.params));
                return tf.mean(what === 'z' ? tf.sum(s.z, 2) : s.logQ) as tf.Scalar;
              }, vars);
            } catch (err) {
              // tfjs's way of saying that no variable reaches the value.
              if (err instanceof Error && err.message.startsWith('Cannot find a connection')) throw new CheckFailure(zero());
              throw err;
            }
            const { value, grads } = result;
            const gs = Object.values(grads);
            try {
              ensure(allFinite(...gs), () => `∂ mean(${what})/∂φ has NaN or ±Infinity`);
              const largest = Math.max(...gs.map((g) => tf.tidy(() => tf.max(tf.abs(g))).dataSync()[0]!));
              ensure(largest > 0, zero);
            } finally {
              tf.dispose([value, ...gs]);
            }
          }
          return 'gradients flow through z and logQ';
        }),
    },
    {
      name: 'leaks no tensors across repeated calls',
      run: () =>
        withEncoder(4, (e, x) =>
          checkNoLeak(() => {
            const s = e.sample(x, 3);
            const lambda = e.params(x);
            tf.dispose([s.z, s.logQ, lambda, e.mode(x)]);
            if (s.posterior) tf.dispose(Object.values(s.posterior.params));
          }),
        ),
    },
  ];
}

export function checkEncoder(o: EncoderCheckOptions): CheckResult[] {
  return runChecks(encoderChecks(o));
}

export function assertEncoder(subject: string, o: EncoderCheckOptions): CheckResult[] {
  return assertChecks(`encoder ${subject}`, encoderChecks(o));
}
