import type { tf } from './tf.js';

/** A trainable tensor with a stable, slash-separated name (`encoder/net/0/kernel`). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** Anything that owns variables: networks, encoders, priors, likelihoods, flow steps. */
export interface Parametrised {
  /** Every variable this object owns, names relative to the object (no role prefix). */
  variables(): NamedVariable[];
  /** Release the variables. */
  dispose(): void;
}

/** Prefix each name with `prefix/`. */
export function prefixed(prefix: string, vars: NamedVariable[]): NamedVariable[] {
  return vars.map((v) => ({ name: `${prefix}/${v.name}`, variable: v.variable }));
}
