/**
 * The checks every `FlowStep` must pass (Pyro's `_test(factory, inverse=…)`, distrax's
 * `slogdet(jacfwd(f)(x))`), for D = 2 and D = 5, with a context of width `contextDim` (none when 0),
 * after setting every variable to seeded N(0, paramScale²) values so the step is far from the identity:
 *  - shapes: z `[K, B, D]` → z `[K, B, D]`, logDet `[K, B]` (K = 3, B = 4 and K = 1);
 *  - logDet equals log|det J|, J built row by row with `tf.grad` of each output dimension and its
 *    log|det| taken in float64 by LU, to `tolerance` (absolute, nats; default 2e-4), where the step
 *    is not volume preserving (some |logDet| > 0.05, so the check can fail);
 *  - inverse round trip: |f⁻¹(f(z)) − z| ≤ 1e-4·(1 + |z|) and logDet_f + logDet_f⁻¹ = 0 to 1e-4 — or,
 *    for `inverse: false`, `inverse` throws `NoInverseError`;
 *  - no NaN/Inf in outputs (and inverse outputs) for |z| up to 1e3 (entries ±1e3, 0, ±1, mixed), in
 *    gradients at |z| = 1e3, and with extreme raw parameters (every variable N(0, extremeScale²),
 *    contexts N(0, 100²));
 *  - no tensor leaks across repeated forward (and inverse) calls.
 *
 *   assertFlowStep('my-step', { make: (D, C, random) => new MyStep(D, C, random), inverse: true });
 */
import { tf } from '../core/tf.js';
import { Random } from '../core/random.js';
import { NoInverseError, type FlowStep } from '../core/flow-step.js';
import { allFinite, assertChecks, checkNoLeak, ensure, ensureShape, rejectUnknownKeys, runChecks, type CheckResult, type PluginCheck } from './check.js';
import { autodiffJacobian, logAbsDet, randomizeVariables } from './jacobian.js';

export interface FlowStepCheckOptions {
  /** Builds a step for latent dimension D with a context of width C (C = 0: global parameters). */
  make(latentDim: number, contextDim: number, random: Random): FlowStep;
  /** Whether the step has a closed-form inverse. */
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

const KNOWN = new Set(['make', 'inverse', 'contextDim', 'paramScale', 'extremeScale', 'tolerance', 'seed']);

/** Entries ±1e3, 0, ±1 and N(0, 1e3²) mixed, `[K, B, D]`. */
function extremeZ(k: number, b: number, d: number, random: Random): tf.Tensor3D {
  const v = new Float32Array(k * b * d);
  const picks = [1e3, -1e3, 0, 1, -1];
  for (let i = 0; i < v.length; i++) v[i] = i % 3 === 0 ? 1e3 * random.gaussian() : picks[Math.floor(random.uniform() * picks.length)]!;
  return tf.tensor3d(v, [k, b, d]);
}

/** The checks, one per contract (see the file comment), to run with `runChecks` or one `it` each. */
export function flowStepChecks(o: FlowStepCheckOptions): PluginCheck[] {
  rejectUnknownKeys('flowStepChecks', o, KNOWN);
  const c = o.contextDim ?? 3;
  const paramScale = o.paramScale ?? 0.5;
  const extremeScale = o.extremeScale ?? 1e3;
  const tol = o.tolerance ?? 2e-4;
  const seed = o.seed ?? 7;

  const withStep = (d: number, salt: number, body: (s: { random: Random; step: FlowStep; context?: tf.Tensor2D }) => string): string => {
    const random = new Random(seed * 1000 + d * 10 + salt);
    const step = o.make(d, c, random);
    const context = c > 0 ? random.normal<tf.Rank.R2>([4, c]) : undefined;
    try {
      randomizeVariables(step, random, paramScale);
      return body({ random, step, context });
    } finally {
      step.dispose();
      context?.dispose();
    }
  };

  const checks: PluginCheck[] = [
    {
      name: 'maps [K, B, D] samples to [K, B, D] with a [K, B] log-det',
      run: () => {
        for (const d of [2, 5]) {
          withStep(d, 1, (s) => {
            for (const k of [3, 1]) {
              const z = s.random.normal<tf.Rank.R3>([k, 4, d]);
              const r = s.step.forward(z, s.context);
              try {
                ensureShape('forward z', r.z, [k, 4, d]);
                ensureShape('forward logDet', r.logDet, [k, 4]);
              } finally {
                tf.dispose([z, r.z, r.logDet]);
              }
            }
            return '';
          });
        }
        return 'D = 2, 5; K = 3, 1; B = 4';
      },
    },
  ];

  for (const d of [2, 5]) {
    checks.push({
      name: `matches log|det| of the autodiff Jacobian (D = ${d}, tolerance ${tol} nats)`,
      run: () =>
        withStep(d, 2, (s) => {
          const z = tf.tidy(() => tf.mul(s.random.normal<tf.Rank.R3>([3, 4, d]), 1.5)) as tf.Tensor3D;
          const r = s.step.forward(z, s.context);
          try {
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
            ensure(worst < tol, () => `logDet differs from log|det| of the autodiff Jacobian by up to ${worst.toExponential(3)} nats (tolerance ${tol})`);
            ensure(largest > 0.05, () => `the step is volume preserving at these parameters (max |log det J| = ${largest.toExponential(3)}), so the check cannot fail; raise paramScale`);
            ensure(moved > 0.05, () => `the step is the identity at these parameters (max |f(z) − z| = ${moved.toExponential(3)}); raise paramScale`);
            return `max |logDet − log|det J|| = ${worst.toExponential(2)} nats over 12 samples, max |log|det J|| = ${largest.toFixed(3)}`;
          } finally {
            tf.dispose([z, r.z, r.logDet]);
          }
        }),
    });
  }

  if (o.inverse) {
    checks.push({
      name: 'inverts exactly: f⁻¹(f(z)) = z and the two log-dets sum to zero',
      run: () => {
        let worstZ = 0;
        let worstLd = 0;
        for (const d of [2, 5]) {
          withStep(d, 3, (s) => {
            const z = tf.tidy(() => tf.mul(s.random.normal<tf.Rank.R3>([3, 4, d]), 2)) as tf.Tensor3D;
            const f = s.step.forward(z, s.context);
            const b = s.step.inverse(f.z, s.context);
            try {
              const zv = z.dataSync();
              const bv = b.z.dataSync();
              for (let i = 0; i < zv.length; i++) {
                const err = Math.abs(bv[i]! - zv[i]!);
                ensure(err <= 1e-4 * (1 + Math.abs(zv[i]!)), () => `|f⁻¹(f(z)) − z| = ${err.toExponential(3)} at z = ${zv[i]} (D = ${d}); allowed 1e-4·(1 + |z|)`);
                worstZ = Math.max(worstZ, err);
              }
              const fl = f.logDet.dataSync();
              const bl = b.logDet.dataSync();
              ensure(Math.max(...fl.map((v) => Math.abs(v))) > 0.05, () => `the step is volume preserving at these parameters (D = ${d}), so the log-det half of the check cannot fail`);
              for (let i = 0; i < fl.length; i++) {
                const sum = Math.abs(fl[i]! + bl[i]!);
                ensure(sum < 1e-4, () => `forward logDet ${fl[i]} + inverse logDet ${bl[i]} = ${fl[i]! + bl[i]!} (D = ${d}); expected 0 to 1e-4`);
                worstLd = Math.max(worstLd, sum);
              }
              return '';
            } finally {
              tf.dispose([z, f.z, f.logDet, b.z, b.logDet]);
            }
          });
        }
        return `max |f⁻¹(f(z)) − z| = ${worstZ.toExponential(2)}, max |logDet_f + logDet_f⁻¹| = ${worstLd.toExponential(2)}`;
      },
    });
  } else {
    checks.push({
      name: 'has no closed-form inverse and says so with NoInverseError',
      run: () =>
        withStep(2, 3, (s) => {
          const z = s.random.normal<tf.Rank.R3>([1, 4, 2]);
          try {
            const r = s.step.inverse(z, s.context);
            tf.dispose([r.z, r.logDet]);
          } catch (e) {
            ensure(e instanceof NoInverseError, () => `inverse threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}; expected a NoInverseError`);
            return 'inverse throws NoInverseError';
          } finally {
            z.dispose();
          }
          return ensure(false, () => 'inverse returned a result although the step was declared without one (inverse: false)') as never;
        }),
    });
  }

  checks.push({
    name: 'stays finite for |z| up to 1e3, in values and gradients',
    run: () => {
      for (const d of [2, 5]) {
        withStep(d, 4, (s) => {
          const z = extremeZ(3, 4, d, s.random);
          const r = s.step.forward(z, s.context);
          try {
            ensure(allFinite(r.z, r.logDet), () => `forward gives NaN or ±Infinity for extreme z (D = ${d})`);
            if (o.inverse) {
              const b = s.step.inverse(z, s.context);
              const ok = allFinite(b.z, b.logDet);
              tf.dispose([b.z, b.logDet]);
              ensure(ok, () => `inverse gives NaN or ±Infinity for extreme z (D = ${d})`);
            }
            const g = tf.grad((zz: tf.Tensor) => {
              const f = s.step.forward(zz as tf.Tensor3D, s.context);
              return tf.add(tf.sum(f.z), tf.sum(f.logDet));
            })(z);
            const ok = allFinite(g);
            g.dispose();
            ensure(ok, () => `the gradient of Σ(z + logDet) is NaN or ±Infinity for extreme z (D = ${d})`);
            return '';
          } finally {
            tf.dispose([z, r.z, r.logDet]);
          }
        });
      }
      return 'forward, inverse and gradients finite at |z| ≤ 1e3, D = 2, 5';
    },
  });

  checks.push({
    name: `stays finite with extreme raw parameters (std ${extremeScale}) and contexts (std 100)`,
    run: () => {
      for (const d of [2, 5]) {
        withStep(d, 5, (s) => {
          randomizeVariables(s.step, s.random, extremeScale);
          const context = c > 0 ? (tf.tidy(() => tf.mul(s.random.normal([4, c]), 100)) as tf.Tensor2D) : undefined;
          try {
            for (const z of [extremeZ(3, 4, d, s.random), s.random.normal<tf.Rank.R3>([3, 4, d])]) {
              const r = s.step.forward(z, context);
              const okF = allFinite(r.z, r.logDet);
              let okI = true;
              if (o.inverse) {
                const b = s.step.inverse(z, context);
                okI = allFinite(b.z, b.logDet);
                tf.dispose([b.z, b.logDet]);
              }
              tf.dispose([z, r.z, r.logDet]);
              ensure(okF, () => `forward gives NaN or ±Infinity with extreme parameters (D = ${d})`);
              ensure(okI, () => `inverse gives NaN or ±Infinity with extreme parameters (D = ${d})`);
            }
          } finally {
            context?.dispose();
          }
          return '';
        });
      }
      return 'finite with extreme parameters, D = 2, 5';
    },
  });

  checks.push({
    name: 'leaks no tensors across repeated calls',
    run: () =>
      withStep(5, 6, (s) => {
        const z = s.random.normal<tf.Rank.R3>([3, 4, 5]);
        try {
          return checkNoLeak(() => {
            const r = s.step.forward(z, s.context);
            tf.dispose([r.z, r.logDet]);
            if (o.inverse) {
              const b = s.step.inverse(z, s.context);
              tf.dispose([b.z, b.logDet]);
            }
          });
        } finally {
          z.dispose();
        }
      }),
  });
  return checks;
}

/** Runs every flow-step check; one result per check. */
export function checkFlowStep(o: FlowStepCheckOptions): CheckResult[] {
  return runChecks(flowStepChecks(o));
}

/** Runs every flow-step check and throws a PluginCheckError listing the failures. */
export function assertFlowStep(subject: string, o: FlowStepCheckOptions): CheckResult[] {
  return assertChecks(`flow step ${subject}`, flowStepChecks(o));
}
