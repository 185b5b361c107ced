/**
 * The generic flow-step harness: one call per step registers the checks every `FlowStep` must
 * pass (Pyro's `_test(factory, inverse=…)`, distrax's `slogdet(jacfwd(f)(x))` check):
 *
 *   describeFlowStep('planar (amortised)', { make: (D, C, random) => new PlanarFlow(D, C, random), inverse: true });
 *
 * For D = 2 and D = 5 (with a context of width `contextDim`, or none when it is 0), after setting
 * every variable of the step to seeded N(0, paramScale²) values so the step is far from the identity:
 *  - shapes: z `[K, B, D]` → z `[K, B, D]`, logDet `[K, B]` (K = 3, B = 4 and K = 1);
 *  - logDet equals log|det J|, J built row by row with `tf.grad` of each output dimension and its
 *    log|det| taken in float64 by LU, to `tolerance` (absolute, nats; default 2e-4), and the step is
 *    not volume preserving there (some |logDet| > 0.05, so the check can fail);
 *  - inverse round trip: |f⁻¹(f(z)) − z| ≤ 1e-4·(1 + |z|) and logDet_f + logDet_f⁻¹ = 0 to 1e-4 — or,
 *    for `inverse: false`, `inverse` throws `NoInverseError`;
 *  - no NaN/Inf in outputs (and inverse outputs) for |z| up to 1e3 (entries ±1e3, 0, ±1, mixed),
 *    in gradients at |z| = 1e3, and with extreme raw parameters (every variable N(0, extremeScale²),
 *    contexts N(0, 100²));
 *  - no tensor leaks across repeated forward (and inverse) calls.
 */
import { describe, expect, it } from 'vitest';
import { NoInverseError, Random, tf } from '../../plugins/index.js';
import type { FlowStep, Parametrised } from '../../plugins/index.js';
import { expectNoLeak } from './memory.js';

export interface FlowStepHarnessOptions {
  /** Builds a step for latent dimension D with a context of width C (C = 0: global parameters). */
  make(latentDim: number, contextDim: number, random: Random): FlowStep;
  /** Whether the step has an inverse (closed-form, or numerical to the round-trip tolerance). */
  inverse: boolean;
  /** Context width C (default 3; 0 for a step with global parameters). */
  contextDim?: number;
  /** Std of the random parameters for the Jacobian and round-trip checks (default 0.5). */
  paramScale?: number;
  /** Std of the extreme raw parameters (default 1e3). */
  extremeScale?: number;
  /** Absolute tolerance of logDet against the autodiff Jacobian, nats (default 2e-4). */
  tolerance?: number;
  /** Seed (default 7). */
  seed?: number;
}

/** Sets every variable to seeded N(0, scale²) values. */
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

function allFinite(...ts: tf.Tensor[]): boolean {
  return ts.every((t) => (t.dataSync() as Float32Array).every((v) => Number.isFinite(v)));
}

/** Entries ±1e3, 0, ±1 and N(0, 1e3²) mixed, `[K, B, D]`. */
function extremeZ(k: number, b: number, d: number, random: Random): tf.Tensor3D {
  const v = new Float32Array(k * b * d);
  const picks = [1e3, -1e3, 0, 1, -1];
  for (let i = 0; i < v.length; i++) v[i] = i % 3 === 0 ? 1e3 * random.gaussian() : picks[Math.floor(random.uniform() * picks.length)]!;
  return tf.tensor3d(v, [k, b, d]);
}

/** Registers the shared checks for one step (see the file comment). */
export function describeFlowStep(title: string, o: FlowStepHarnessOptions): void {
  const c = o.contextDim ?? 3;
  const paramScale = o.paramScale ?? 0.5;
  const extremeScale = o.extremeScale ?? 1e3;
  const tol = o.tolerance ?? 2e-4;
  const seed = o.seed ?? 7;

  const setup = (d: number, salt: number) => {
    const random = new Random(seed * 1000 + d * 10 + salt);
    const step = o.make(d, c, random);
    randomizeVariables(step, random, paramScale);
    const context = c > 0 ? random.normal<tf.Rank.R2>([4, c]) : undefined;
    return { random, step, context };
  };
  const dispose = (s: { step: FlowStep; context?: tf.Tensor }) => {
    s.step.dispose();
    s.context?.dispose();
  };

  describe(`flow step harness: ${title}`, () => {
    it('maps [K, B, D] samples to [K, B, D] with a [K, B] log-det', () => {
      for (const d of [2, 5]) {
        const s = setup(d, 1);
        for (const k of [3, 1]) {
          const z = s.random.normal<tf.Rank.R3>([k, 4, d]);
          const r = s.step.forward(z, s.context);
          expect(r.z.shape).toEqual([k, 4, d]);
          expect(r.logDet.shape).toEqual([k, 4]);
          tf.dispose([z, r.z, r.logDet]);
        }
        dispose(s);
      }
    });

    for (const d of [2, 5]) {
      it(`matches log|det| of the autodiff Jacobian (D = ${d}, tolerance ${tol} nats)`, () => {
        const s = setup(d, 2);
        const z = tf.tidy(() => tf.mul(s.random.normal<tf.Rank.R3>([3, 4, d]), 1.5)) as tf.Tensor3D;
        const r = s.step.forward(z, s.context);
        const logDet = r.logDet.dataSync();
        const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(r.z, z)))).dataSync()[0]!;
        const jac = autodiffJacobian((zz) => s.step.forward(zz, s.context).z, z);
        let worst = 0;
        let largest = 0;
        jac.forEach((row, k) =>
          row.forEach((m, b) => {
            const ld = logAbsDet(m);
            worst = Math.max(worst, Math.abs(ld - logDet[k * 4 + b]!));
            largest = Math.max(largest, Math.abs(ld));
          }),
        );
        expect(worst).toBeLessThan(tol);
        expect(largest).toBeGreaterThan(0.05); // the step is far from volume preserving here
        expect(moved).toBeGreaterThan(0.05); // and far from the identity
        tf.dispose([z, r.z, r.logDet]);
        dispose(s);
      });
    }

    if (o.inverse) {
      it('inverts exactly: f⁻¹(f(z)) = z and the two log-dets sum to zero', () => {
        for (const d of [2, 5]) {
          const s = setup(d, 3);
          const z = tf.tidy(() => tf.mul(s.random.normal<tf.Rank.R3>([3, 4, d]), 2)) as tf.Tensor3D;
          const f = s.step.forward(z, s.context);
          const b = s.step.inverse(f.z, s.context);
          const zv = z.dataSync();
          const bv = b.z.dataSync();
          for (let i = 0; i < zv.length; i++) expect(Math.abs(bv[i]! - zv[i]!)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(zv[i]!)));
          const fl = f.logDet.dataSync();
          const bl = b.logDet.dataSync();
          expect(Math.max(...fl.map((v) => Math.abs(v)))).toBeGreaterThan(0.05);
          for (let i = 0; i < fl.length; i++) expect(Math.abs(fl[i]! + bl[i]!)).toBeLessThan(1e-4);
          tf.dispose([z, f.z, f.logDet, b.z, b.logDet]);
          dispose(s);
        }
      });
    } else {
      it('has no closed-form inverse and says so with NoInverseError', () => {
        const s = setup(2, 3);
        const z = s.random.normal<tf.Rank.R3>([1, 4, 2]);
        expect(() => s.step.inverse(z, s.context)).toThrow(NoInverseError);
        z.dispose();
        dispose(s);
      });
    }

    it('stays finite for |z| up to 1e3, in values and gradients', () => {
      for (const d of [2, 5]) {
        const s = setup(d, 4);
        const z = extremeZ(3, 4, d, s.random);
        const r = s.step.forward(z, s.context);
        expect(allFinite(r.z, r.logDet)).toBe(true);
        if (o.inverse) {
          const b = s.step.inverse(z, s.context);
          expect(allFinite(b.z, b.logDet)).toBe(true);
          tf.dispose([b.z, b.logDet]);
        }
        const g = tf.grad((zz: tf.Tensor) => {
          const f = s.step.forward(zz as tf.Tensor3D, s.context);
          return tf.add(tf.sum(f.z), tf.sum(f.logDet));
        })(z);
        expect(allFinite(g)).toBe(true);
        tf.dispose([z, r.z, r.logDet, g]);
        dispose(s);
      }
    });

    it(`stays finite with extreme raw parameters (std ${extremeScale}) and contexts (std 100)`, () => {
      for (const d of [2, 5]) {
        const s = setup(d, 5);
        randomizeVariables(s.step, s.random, extremeScale);
        const context = c > 0 ? (tf.tidy(() => tf.mul(s.random.normal([4, c]), 100)) as tf.Tensor2D) : undefined;
        for (const z of [extremeZ(3, 4, d, s.random), s.random.normal<tf.Rank.R3>([3, 4, d])]) {
          const r = s.step.forward(z, context);
          expect(allFinite(r.z, r.logDet)).toBe(true);
          if (o.inverse) {
            const b = s.step.inverse(z, context);
            expect(allFinite(b.z, b.logDet)).toBe(true);
            tf.dispose([b.z, b.logDet]);
          }
          tf.dispose([z, r.z, r.logDet]);
        }
        context?.dispose();
        dispose(s);
      }
    });

    it('leaks no tensors across repeated calls', async () => {
      const s = setup(5, 6);
      const z = s.random.normal<tf.Rank.R3>([3, 4, 5]);
      await expectNoLeak(() => {
        const r = s.step.forward(z, s.context);
        tf.dispose([r.z, r.logDet]);
        if (o.inverse) {
          const b = s.step.inverse(z, s.context);
          tf.dispose([b.z, b.logDet]);
        }
      });
      z.dispose();
      dispose(s);
    });
  });
}
