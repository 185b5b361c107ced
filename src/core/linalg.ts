/**
 * Small dense linear algebra in Float64, for exact references (the linear-Gaussian model, PPCA,
 * tests). Matrices are row-major: entry (i, j) of an `rows × cols` matrix is `data[i·cols + j]`.
 *
 * Meant for matrices up to a few hundred rows (D×D or P×P with P ≤ ~800); everything is
 * O(n³) plain loops, no blocking. Nothing here touches tfjs.
 */

/** A dense row-major Float64 matrix. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** A `rows × cols` matrix over `data` (copied from an array; a Float64Array is used as is). Zeros when `data` is left out. */
export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new Error(`matrix: expected non-negative integer dims; got ${rows}×${cols}`);
  }
  if (data === undefined) return { rows, cols, data: new Float64Array(rows * cols) };
  if (data.length !== rows * cols) {
    throw new Error(`matrix: ${rows}×${cols} needs ${rows * cols} values; got ${data.length}`);
  }
  return { rows, cols, data: data instanceof Float64Array ? data : Float64Array.from(data) };
}

/** A matrix from nested rows (`[[1, 2], [3, 4]]`). */
export function fromRows(rows: readonly (readonly number[])[]): Matrix {
  const r = rows.length;
  const c = r === 0 ? 0 : rows[0]!.length;
  const out = matrix(r, c);
  rows.forEach((row, i) => {
    if (row.length !== c) throw new Error(`fromRows: row ${i} has ${row.length} values; expected ${c}`);
    for (let j = 0; j < c; j++) out.data[i * c + j] = row[j]!;
  });
  return out;
}

/** Nested rows of a matrix (for printing and tests). */
export function toRows(a: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.rows; i++) out.push(Array.from(a.data.subarray(i * a.cols, (i + 1) * a.cols)));
  return out;
}

/** The n×n identity, optionally scaled: s·I. */
export function identity(n: number, s = 1): Matrix {
  const out = matrix(n, n);
  for (let i = 0; i < n; i++) out.data[i * n + i] = s;
  return out;
}

/** A diagonal matrix diag(d). */
export function diag(d: ArrayLike<number>): Matrix {
  const n = d.length;
  const out = matrix(n, n);
  for (let i = 0; i < n; i++) out.data[i * n + i] = d[i]!;
  return out;
}

/** The diagonal of a square matrix. */
export function diagonal(a: Matrix): Float64Array {
  const n = Math.min(a.rows, a.cols);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = a.data[i * a.cols + i]!;
  return out;
}

function checkSquare(a: Matrix, what: string): number {
  if (a.rows !== a.cols) throw new Error(`${what}: expected a square matrix; got ${a.rows}×${a.cols}`);
  return a.rows;
}

/** C = A·B, (m×k)(k×n) → m×n. */
export function matmul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) {
    throw new Error(`matmul: inner dimensions differ: ${a.rows}×${a.cols} times ${b.rows}×${b.cols}`);
  }
  const m = a.rows;
  const k = a.cols;
  const n = b.cols;
  const out = matrix(m, n);
  const A = a.data;
  const B = b.data;
  const C = out.data;
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = A[i * k + p]!;
      if (aip === 0) continue;
      const bo = p * n;
      const co = i * n;
      for (let j = 0; j < n; j++) C[co + j]! += aip * B[bo + j]!;
    }
  }
  return out;
}

/** Aᵀ. */
export function transpose(a: Matrix): Matrix {
  const out = matrix(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j]!;
  return out;
}

/** A + s·B (same shape). */
export function addScaled(a: Matrix, b: Matrix, s = 1): Matrix {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new Error(`addScaled: shapes differ: ${a.rows}×${a.cols} and ${b.rows}×${b.cols}`);
  }
  const out = matrix(a.rows, a.cols);
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i]! + s * b.data[i]!;
  return out;
}

/** The largest |A_ij − B_ij| (for tests). */
export function maxAbsDiff(a: Matrix, b: Matrix): number {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new Error(`maxAbsDiff: shapes differ: ${a.rows}×${a.cols} and ${b.rows}×${b.cols}`);
  }
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

/**
 * Cholesky factor: the lower-triangular L with positive diagonal such that A = L·Lᵀ.
 * Defined iff A is symmetric positive definite; only the lower triangle of A is read.
 * Throws, naming the pivot, when a pivot L_jj² = A_jj − Σ_{k<j} L_jk² is not positive
 * (A not positive definite to working precision). Cholesky–Banachiewicz order, n³/3 flops.
 */
export function cholesky(a: Matrix): Matrix {
  const n = checkSquare(a, 'cholesky');
  const A = a.data;
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) {
          throw new Error(`cholesky: the matrix is not positive definite (pivot ${j} is ${s}; expected > 0)`);
        }
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j]!;
      }
    }
  }
  return { rows: n, cols: n, data: L };
}

/** log det A = 2 Σ_i log L_ii for A = L·Lᵀ, given the Cholesky factor L. */
export function logDetFromCholesky(l: Matrix): number {
  const n = checkSquare(l, 'logDetFromCholesky');
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(l.data[i * n + i]!);
  return 2 * s;
}

/** log det A of a symmetric positive definite A, via its Cholesky factor. */
export function logDetSpd(a: Matrix): number {
  return logDetFromCholesky(cholesky(a));
}

/** Solves L·X = B for lower-triangular L (forward substitution); B is n×m. */
export function solveLower(l: Matrix, b: Matrix): Matrix {
  const n = checkSquare(l, 'solveLower');
  if (b.rows !== n) throw new Error(`solveLower: right-hand side has ${b.rows} rows; expected ${n}`);
  const m = b.cols;
  const X = Float64Array.from(b.data);
  const L = l.data;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const lik = L[i * n + k]!;
      if (lik === 0) continue;
      for (let j = 0; j < m; j++) X[i * m + j]! -= lik * X[k * m + j]!;
    }
    const d = L[i * n + i]!;
    for (let j = 0; j < m; j++) X[i * m + j]! /= d;
  }
  return { rows: n, cols: m, data: X };
}

/** Solves U·X = B for upper-triangular U (back substitution); B is n×m. */
export function solveUpper(u: Matrix, b: Matrix): Matrix {
  const n = checkSquare(u, 'solveUpper');
  if (b.rows !== n) throw new Error(`solveUpper: right-hand side has ${b.rows} rows; expected ${n}`);
  const m = b.cols;
  const X = Float64Array.from(b.data);
  const U = u.data;
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const uik = U[i * n + k]!;
      if (uik === 0) continue;
      for (let j = 0; j < m; j++) X[i * m + j]! -= uik * X[k * m + j]!;
    }
    const d = U[i * n + i]!;
    for (let j = 0; j < m; j++) X[i * m + j]! /= d;
  }
  return { rows: n, cols: m, data: X };
}

/** Solves Lᵀ·X = B for lower-triangular L without forming Lᵀ (back substitution on Lᵀ). */
export function solveLowerTransposed(l: Matrix, b: Matrix): Matrix {
  const n = checkSquare(l, 'solveLowerTransposed');
  if (b.rows !== n) throw new Error(`solveLowerTransposed: right-hand side has ${b.rows} rows; expected ${n}`);
  const m = b.cols;
  const X = Float64Array.from(b.data);
  const L = l.data;
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const lki = L[k * n + i]!; // (Lᵀ)_ik
      if (lki === 0) continue;
      for (let j = 0; j < m; j++) X[i * m + j]! -= lki * X[k * m + j]!;
    }
    const d = L[i * n + i]!;
    for (let j = 0; j < m; j++) X[i * m + j]! /= d;
  }
  return { rows: n, cols: m, data: X };
}

/** Solves A·X = B given the Cholesky factor L of A = L·Lᵀ: X = L⁻ᵀ(L⁻¹B). */
export function choleskySolve(l: Matrix, b: Matrix): Matrix {
  return solveLowerTransposed(l, solveLower(l, b));
}

/** A⁻¹ of a symmetric positive definite A, via Cholesky (symmetrised to remove rounding asymmetry). */
export function inverseSpd(a: Matrix): Matrix {
  const n = checkSquare(a, 'inverseSpd');
  const inv = choleskySolve(cholesky(a), identity(n));
  const X = inv.data;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const s = 0.5 * (X[i * n + j]! + X[j * n + i]!);
      X[i * n + j] = s;
      X[j * n + i] = s;
    }
  }
  return inv;
}

/**
 * Symmetric eigendecomposition A = V·diag(λ)·Vᵀ by cyclic Jacobi rotations (Golub & Van Loan,
 * Matrix Computations, §8.5). Each rotation zeroes one off-diagonal pair; sweeps repeat until
 * the off-diagonal Frobenius norm is below `tol`·‖A‖_F (quadratic convergence, typically 6–10
 * sweeps). Only the symmetric part ½(A + Aᵀ) is used.
 * Returns eigenvalues in ascending order and V with the matching unit eigenvectors as columns.
 * O(n³) per sweep: fine for n up to a few hundred.
 */
export function symmetricEigen(
  a: Matrix,
  { tol = 1e-15, maxSweeps = 100 }: { tol?: number; maxSweeps?: number } = {},
): { values: Float64Array; vectors: Matrix } {
  const n = checkSquare(a, 'symmetricEigen');
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = 0.5 * (a.data[i * n + j]! + a.data[j * n + i]!);
  const V = identity(n).data;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += A[i]! * A[i]!;
  const threshold = tol * Math.sqrt(total);
  let sweep = 0;
  for (; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += 2 * A[i * n + j]! * A[i * n + j]!;
    if (Math.sqrt(off) <= threshold) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        const app = A[p * n + p]!;
        const aqq = A[q * n + q]!;
        // Rotation angle: tan 2θ = 2a_pq / (a_qq − a_pp); take the smaller root t = tan θ.
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // columns p and q: A ← A·J
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          // rows p and q: A ← Jᵀ·A
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        A[p * n + q] = 0;
        A[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p]!;
          const vkq = V[k * n + q]!;
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  if (sweep === maxSweeps) {
    throw new Error(`symmetricEigen: Jacobi did not converge in ${maxSweeps} sweeps (n = ${n})`);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[i * n + i]! - A[j * n + j]!);
  const values = new Float64Array(n);
  const vectors = matrix(n, n);
  order.forEach((src, dst) => {
    values[dst] = A[src * n + src]!;
    for (let k = 0; k < n; k++) vectors.data[k * n + dst] = V[k * n + src]!;
  });
  return { values, vectors };
}

/**
 * Thin QR by modified Gram–Schmidt with one re-orthogonalisation pass ("twice is enough",
 * Giraud et al. 2005): A (m×n, m ≥ n, full column rank) = Q·R with QᵀQ = I_n and R upper
 * triangular with a positive diagonal. Throws when a column is (numerically) dependent on
 * the previous ones.
 */
export function qr(a: Matrix): { q: Matrix; r: Matrix } {
  const m = a.rows;
  const n = a.cols;
  if (m < n) throw new Error(`qr: expected at least as many rows as columns; got ${m}×${n}`);
  const Q = Float64Array.from(a.data);
  const R = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let norm0 = 0;
    for (let i = 0; i < m; i++) norm0 += Q[i * n + j]! * Q[i * n + j]!;
    norm0 = Math.sqrt(norm0);
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += Q[i * n + k]! * Q[i * n + j]!;
        R[k * n + j]! += dot;
        for (let i = 0; i < m; i++) Q[i * n + j]! -= dot * Q[i * n + k]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += Q[i * n + j]! * Q[i * n + j]!;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-12 * Math.max(norm0, Number.MIN_VALUE))) {
      throw new Error(`qr: column ${j} is linearly dependent on the previous columns`);
    }
    R[j * n + j] = norm;
    for (let i = 0; i < m; i++) Q[i * n + j]! /= norm;
  }
  return { q: { rows: m, cols: n, data: Q }, r: { rows: n, cols: n, data: R } };
}

/** The Q factor of `qr(a)`: orthonormal columns spanning the columns of A (QᵀQ = I). */
export function orthonormalize(a: Matrix): Matrix {
  return qr(a).q;
}
