/**
 * Option objects passed from JavaScript get no type check: a misspelt key (`{ llSamples }` where
 * `samples` is meant) would be silently ignored. `checkOptionKeys` makes it an error naming the
 * key, the hint for a known old spelling or the nearest known key, and the known keys.
 * `optionKeys<T>()(...)` lists an options interface's keys, checked by the compiler to be all of
 * them (adding an option to the interface without adding it to the list does not compile).
 */

/** The keys of `T`, all of them (a compile error names the missing ones). */
export function optionKeys<T extends object>() {
  return <const K extends readonly (keyof T & string)[]>(...keys: K & ([Exclude<keyof T & string, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof T & string, K[number]> })): readonly string[] =>
    keys as readonly string[];
}

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[t.length]!;
}

/**
 * Throws a TypeError for each key of `options` that is not in `known`:
 * `boundReport: unknown option "llSamples" — K of log p̂(x) is "samples" (it was "llSamples"). Known options: …`.
 * `hints` maps old or confusable spellings to the message that says what to write instead.
 */
export function checkOptionKeys(where: string, options: unknown, known: readonly string[], hints: Readonly<Record<string, string>> = {}): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${where}: expected an options object; got ${Array.isArray(options) ? 'an array' : typeof options}`);
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = [...known].sort((a, b) => distance(key, a) - distance(key, b))[0];
    const hint = hints[key] ?? (near !== undefined && distance(key, near) <= Math.max(2, Math.floor(key.length / 3)) ? `did you mean "${near}"?` : undefined);
    throw new TypeError(`${where}: unknown option "${key}"${hint ? ` — ${hint}` : ''} Known options: ${known.join(', ')}.`);
  }
}

/**
 * The sample counts have one name each everywhere (options, config, CLI flags, benches):
 * `samples` is K, the samples per row of an estimate (the importance samples of log p̂(x) and
 * IWAE_K); `elboSamples` is the ELBO's sample count S where a report computes the ELBO beside an
 * importance-sampled estimate; `iwaeSamples` lists the K of the IWAE_K column. Old and
 * confusable spellings, with the name to use.
 */
export const SAMPLE_COUNT_HINTS: Readonly<Record<string, string>> = {
  llSamples: 'K of log p̂(x) is "samples" (it was "llSamples").',
  k: 'K, the samples per row, is "samples".',
  K: 'K, the samples per row, is "samples".',
  numSamples: 'K, the samples per row, is "samples".',
  nSamples: 'K, the samples per row, is "samples".',
};
