/**
 * The autodiff Jacobian of a map of `[K, B, D]` samples and log|det| of a matrix: what a flow
 * step's analytic log-det is checked against.
 */
import { tf } from '../core/tf.js';
import type { Random } from '../core/random.js';
import type { Parametrised } from '../core/variables.js';

/** Sets every variable of `p` to seeded N(0, scale²) values (far from any identity initialisation). */
export function randomizeVariables(p: Parametrised, random: Random, scale: number): void {
  for (const { variable } of p.variables()) {
    const t = random.normal(variable.shape);
    const s = tf.mul(t, scale);
    variable.assign(s);
    tf.dispose([t, s]);
  }
}

/** log|det A| of a square matrix (float64, LU with partial pivoting); −Infinity when singular. */
export function logAbsDet(a: number[][]): number {
  const n = a.length;
  const m = a.map((r) => r.slice());
  let sum = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (m[p]![c] === 0) return -Infinity;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const piv = m[c]![c]!;
    sum += Math.log(Math.abs(piv));
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / piv;
      for (let k = c; k < n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return sum;
}

/**
 * The Jacobian ∂f(z)/∂z of each sample, `[K][B][D][D]` (row i = gradient of output i), built with
 * `tf.grad` per output dimension. Samples do not interact, so the gradient of Σ_{k,b} y[k,b,i]
 * with respect to z[k,b,:] is row i of sample (k, b)'s Jacobian.
 */
export function autodiffJacobian(f: (z: tf.Tensor3D) => tf.Tensor3D, z: tf.Tensor3D): number[][][][] {
  const [k, b, d] = z.shape;
  const rows: Float32Array[] = [];
  for (let i = 0; i < d; i++) {
    const g = tf.tidy(() => tf.grad((zz: tf.Tensor) => tf.sum(tf.slice(f(zz as tf.Tensor3D), [0, 0, i], [k, b, 1])))(z));
    rows.push(g.dataSync() as Float32Array);
    g.dispose();
  }
  const out: number[][][][] = [];
  for (let s = 0; s < k; s++) {
    out.push([]);
    for (let r = 0; r < b; r++) {
      const m: number[][] = [];
      for (let i = 0; i < d; i++) m.push(Array.from(rows[i]!.subarray((s * b + r) * d, (s * b + r + 1) * d)));
      out[s]!.push(m);
    }
  }
  return out;
}
