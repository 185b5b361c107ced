/**
 * Throws `${field}: expected a positive integer; got …` unless `v` is one; returns it.
 * The one check behind every sample count, batch size and grid size in the library.
 */
export function checkPositiveInt(field: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new Error(`${field}: expected a positive integer; got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
  }
  return v as number;
}
