import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { protectedFileReason } from './file-set.js';

/**
 * Makes sure `dir` is a directory, creating the missing ones one level at a time (Node's
 * recursive mkdir loops forever on some paths, e.g. under /proc). Errors start with `label`
 * (e.g. `--out runs/a`). Returns the directories it created, outermost first (see `removeCreated`).
 */
export function ensureDirectory(dir: string, label: string): string[] {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new Error(`${label}: cannot use ${p} (${code})`);
      missing.push(p);
      const up = dirname(p);
      if (up === p) throw new Error(`${label}: no such file system root ${p}`);
      p = up;
      continue;
    }
    if (!isDir) throw new Error(`${label}: ${p} is not a directory`);
    break;
  }
  const created: string[] = [];
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(m).isDirectory()) continue;
      removeCreated(created);
      throw new Error(`${label}: cannot create the directory ${m} (${code})`);
    }
    created.push(m);
  }
  return created;
}

/** Removes directories `ensureDirectory` created, innermost first, as long as they are empty. */
export function removeCreated(created: readonly string[]): void {
  for (const d of [...created].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/**
 * Checks an output file path before any work: not a directory, and not a file of a saved model
 * or training run (`protect` names further run files, e.g. history.json) — so that
 * `--png runs/a/model.json` cannot replace a model's manifest. Creates its folder (see
 * `ensureDirectory`). `what` names the option in errors.
 */
export function prepareOutputFile(path: string, what: string, protect: readonly string[] = []): void {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Does not exist yet.
  }
  if (isDir) throw new Error(`${what} ${path}: is a directory; expected a file path (e.g. ${path.replace(/\/+$/, '')}/samples.png)`);
  const reason = protectedFileReason(resolve(path), protect);
  if (reason) throw new Error(`${what} ${path}: refusing to overwrite it: ${reason}; choose another file`);
  ensureDirectory(dirname(path), `${what} ${path}`);
}
