import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';
import {
  addScaled,
  cholesky,
  choleskySolve,
  diag,
  fromRows,
  identity,
  inverseSpd,
  logDetSpd,
  matmul,
  matrix,
  maxAbsDiff,
  orthonormalize,
  qr,
  solveLower,
  solveLowerTransposed,
  solveUpper,
  symmetricEigen,
  transpose,
  type Matrix,
} from '../../src/core/linalg.js';

function randomMatrix(rows: number, cols: number, random: Random): Matrix {
  const m = matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = random.gaussian();
  return m;
}

/** A random SPD matrix G·Gᵀ + n·I, well conditioned. */
function randomSpd(n: number, random: Random): Matrix {
  const g = randomMatrix(n, n, random);
  return addScaled(matmul(g, transpose(g)), identity(n), n);
}

/** log|det A| by Gaussian elimination with partial pivoting: an independent reference. */
function logAbsDetLu(a: Matrix): number {
  const n = a.rows;
  const A = Float64Array.from(a.data);
  let s = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(A[i * n + k]!) > Math.abs(A[p * n + k]!)) p = i;
    if (p !== k) for (let j = 0; j < n; j++) [A[k * n + j], A[p * n + j]] = [A[p * n + j]!, A[k * n + j]!];
    s += Math.log(Math.abs(A[k * n + k]!));
    for (let i = k + 1; i < n; i++) {
      const f = A[i * n + k]! / A[k * n + k]!;
      for (let j = k; j < n; j++) A[i * n + j]! -= f * A[k * n + j]!;
    }
  }
  return s;
}

describe('linalg', () => {
  it('multiplies and transposes small matrices exactly', () => {
    const a = fromRows([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = fromRows([
      [7, 8],
      [9, 10],
      [11, 12],
    ]);
    expect(Array.from(matmul(a, b).data)).toEqual([58, 64, 139, 154]);
    expect(Array.from(transpose(a).data)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(() => matmul(a, a)).toThrow(/inner dimensions differ: 2×3 times 2×3/);
  });

  it('reconstructs random SPD matrices from their Cholesky factor to 1e-10', () => {
    const random = new Random(11);
    for (const n of [1, 3, 10, 40]) {
      const a = randomSpd(n, random);
      const l = cholesky(a);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(l.data[i * n + j]).toBe(0);
      expect(maxAbsDiff(matmul(l, transpose(l)), a)).toBeLessThan(1e-10 * n);
      expect(logDetSpd(a)).toBeCloseTo(logAbsDetLu(a), 9);
    }
  });

  it('rejects a matrix that is not positive definite, naming the pivot', () => {
    const a = fromRows([
      [1, 2],
      [2, 1],
    ]);
    expect(() => cholesky(a)).toThrow(/not positive definite \(pivot 1 is -3; expected > 0\)/);
  });

  it('inverts random SPD matrices: A·A⁻¹ = I to 1e-10', () => {
    const random = new Random(12);
    for (const n of [2, 8, 30]) {
      const a = randomSpd(n, random);
      const inv = inverseSpd(a);
      expect(maxAbsDiff(matmul(a, inv), identity(n))).toBeLessThan(1e-10);
      expect(maxAbsDiff(inv, transpose(inv))).toBe(0);
    }
  });

  it('solves triangular systems by substitution', () => {
    const random = new Random(13);
    const n = 12;
    const l = cholesky(randomSpd(n, random));
    const b = randomMatrix(n, 3, random);
    expect(maxAbsDiff(matmul(l, solveLower(l, b)), b)).toBeLessThan(1e-10);
    expect(maxAbsDiff(matmul(transpose(l), solveLowerTransposed(l, b)), b)).toBeLessThan(1e-10);
    const u = transpose(l);
    expect(maxAbsDiff(matmul(u, solveUpper(u, b)), b)).toBeLessThan(1e-10);
    const a = matmul(l, u);
    expect(maxAbsDiff(matmul(a, choleskySolve(l, b)), b)).toBeLessThan(1e-10);
  });

  it('eigendecomposes random SPD matrices: V·diag(λ)·Vᵀ = A and VᵀV = I to 1e-10', () => {
    const random = new Random(14);
    for (const n of [1, 2, 5, 20, 60]) {
      const a = randomSpd(n, random);
      const { values, vectors } = symmetricEigen(a);
      for (let i = 1; i < n; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
      const scale = Math.max(...Array.from(values));
      expect(maxAbsDiff(matmul(matmul(vectors, diag(values)), transpose(vectors)), a) / scale).toBeLessThan(1e-12);
      expect(maxAbsDiff(matmul(transpose(vectors), vectors), identity(n))).toBeLessThan(1e-10);
      // Σ log λ = log det A.
      expect(Array.from(values).reduce((s, v) => s + Math.log(v), 0)).toBeCloseTo(logDetSpd(a), 9);
    }
  });

  it('finds the known eigenvalues of a 2×2 matrix', () => {
    const { values, vectors } = symmetricEigen(
      fromRows([
        [2, 1],
        [1, 2],
      ]),
    );
    expect(values[0]).toBeCloseTo(1, 14);
    expect(values[1]).toBeCloseTo(3, 14);
    // Eigenvector of 3 is ±(1, 1)/√2.
    expect(Math.abs(vectors.data[1]!)).toBeCloseTo(Math.SQRT1_2, 14);
    expect(Math.abs(vectors.data[3]!)).toBeCloseTo(Math.SQRT1_2, 14);
  });

  it('orthonormalises columns: QᵀQ = I and Q·R = A with R upper triangular', () => {
    const random = new Random(15);
    const a = randomMatrix(50, 8, random);
    const { q, r } = qr(a);
    expect(maxAbsDiff(matmul(transpose(q), q), identity(8))).toBeLessThan(1e-13);
    expect(maxAbsDiff(matmul(q, r), a)).toBeLessThan(1e-12);
    for (let i = 0; i < 8; i++) {
      expect(r.data[i * 8 + i]!).toBeGreaterThan(0);
      for (let j = 0; j < i; j++) expect(r.data[i * 8 + j]).toBe(0);
    }
    expect(maxAbsDiff(orthonormalize(a), q)).toBe(0);
    const dependent = fromRows([
      [1, 2],
      [2, 4],
      [3, 6],
    ]);
    expect(() => qr(dependent)).toThrow(/column 1 is linearly dependent/);
  });
});
