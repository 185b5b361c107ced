/**
 * The switch for vaekit's speed fixes (`setFastMatMul`), in a module of its own so that the
 * kernels it controls (`../backend/host-kernel.ts`, `gemm.ts`, `mat-mul.ts`) can all read it.
 */
let enabled: boolean | null = null;

/** `true`: always use the fast paths; `false`: never (tfjs's own kernels and gradients); `null`: the default per backend. */
export function setFastMatMul(on: boolean | null): void {
  enabled = on;
}

/** The setting made with `setFastMatMul` (`null`: the default). Host kernels and multi-threaded training are off when it is `false`. */
export function fastMatMulSetting(): boolean | null {
  return enabled;
}
