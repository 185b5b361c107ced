/**
 * What the host offers for messages and settings: Node's `process.stderr` and `process.env`
 * where they exist, nothing in a browser (where `process` is undefined and reading it throws).
 */

/** The host's standard error stream, or undefined where there is none (a browser). */
export function hostStderr(): NodeJS.WriteStream | undefined {
  return typeof process === 'undefined' ? undefined : process.stderr;
}

/** An environment variable of the host, or undefined where it is unset or there is no environment. */
export function hostEnv(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env?.[name];
}

/** Writes one line to standard error, or to the console where there is no stderr. */
export function writeStderrLine(line: string): void {
  const err = hostStderr();
  if (err) err.write(`${line}\n`);
  else console.warn(line);
}
