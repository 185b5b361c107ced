import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { liveLockHolder, LOCK_HOLDER_NAME, LOCK_NAME, processAlive } from './run-lock.js';
import { MODEL_FILE, SavedModelError } from './saved-model-format.js';

/** model.json (`MODEL_FILE`) is the file whose rename commits a set: it lists the size and SHA-256 of every other file. */
export { MODEL_FILE, SavedModelError };
/** The name of a file of the previous complete set, kept while a new one is written (`.prev-model.json`, …). */
export const previousName = (name: string) => `.prev-${name}`;

/** What a set's model.json must hold for the set to be checked (the rest is the caller's). */
export interface SetManifest {
  files: Record<string, { bytes: number; sha256: string }>;
  checkpoint?: unknown;
  savedAt?: string;
}

export interface SetFile {
  name: string;
  bytes: Uint8Array;
}

/** Test hook: called at each stage of a set write (`temp-written`, `backed-up`, `renamed:<file>`); throwing simulates a crash there. */
export type WriteStage = (stage: string) => void;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Temporary files of a write: `.<name>.tmp-<pid>-<write id>` (new files, renamed over the
 * targets) and `.<name>.prev-<pid>-<id>` (hard links of the backup). One write id per set.
 */
const TEMP_PATTERN = /^\.(.+)\.(tmp|prev)-(\d+)-([0-9a-f]+)$/;

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems cannot fsync a directory; the renames are still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `bytes` to a new temporary file in `dir`, flushed to disk; returns its path. */
function writeTemp(dir: string, name: string, bytes: Uint8Array, writeId: string): string {
  const tmp = join(dir, `.${name}.tmp-${process.pid}-${writeId}`);
  const fd = openSync(tmp, 'wx');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  return tmp;
}

/**
 * Why `path` must not be overwritten by a single-file write, or null: it is a file of the saved
 * model in its directory (model.json, a file model.json lists, the previous set, the lock, a
 * temporary file of a save), or, in `extra`, another file the caller protects in a model directory.
 */
export function protectedFileReason(path: string, extra: readonly string[] = []): string | null {
  const dir = dirname(path);
  const name = basename(path);
  let listed: string[] = [];
  let isModelDir = false;
  for (const m of [MODEL_FILE, previousName(MODEL_FILE)]) {
    let text: string;
    try {
      text = readFileSync(join(dir, m), 'utf8');
    } catch {
      continue;
    }
    isModelDir = true;
    try {
      listed.push(...Object.keys((JSON.parse(text) as SetManifest).files ?? {}));
    } catch {
      listed.push('config.json', 'weights.bin', 'optimizer.bin');
    }
  }
  if (!isModelDir) return null;
  listed = [...new Set([MODEL_FILE, ...listed])];
  if (listed.includes(name)) return `${name} is a file of the saved model in ${dir}`;
  if (name.startsWith('.prev-') || TEMP_PATTERN.test(name) || name === LOCK_NAME || name === LOCK_HOLDER_NAME) return `${name} belongs to the saves of the model in ${dir}`;
  if (extra.includes(name)) return `${name} is a file of the training run in ${dir}`;
  return null;
}

/**
 * Writes one file atomically: a temporary file in the same folder, fsync, rename over the
 * target. Refuses a target that is a directory or a file of a saved model (see `protectedFileReason`).
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Does not exist yet.
  }
  if (isDir) throw new Error(`${path}: is a directory; expected a file path`);
  const reason = protectedFileReason(path);
  if (reason) throw new Error(`${path}: refusing to overwrite it: ${reason}`);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const dir = dirname(path);
  const tmp = writeTemp(dir, basename(path), bytes, randomBytes(4).toString('hex'));
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

/**
 * Removes temporary files of writes that can no longer finish: those of processes that no longer
 * run, and this process's own (called between its writes, which are synchronous). Files of
 * another live process are kept. Returns the names removed.
 */
export function removeOrphans(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMP_PATTERN.exec(name);
    if (!m) continue;
    const pid = Number(m[3]);
    if (pid !== process.pid && processAlive(pid)) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** The files of a set as named by the manifest (`base`) or of the previous set. */
const setPath = (dir: string, name: string, previous: boolean) => join(dir, previous ? previousName(name) : name);

/** A file of a set that does not match model.json: missing, or other bytes (with their hash). */
interface Mismatch {
  file: string;
  sha256?: string;
  message: string;
}

/** One read of a set: each file read once, its bytes checked against model.json. */
type SetRead =
  | { ok: true; manifestBytes: Buffer; manifest: SetManifest; bytes: Map<string, Buffer> }
  | { ok: false; manifestBytes?: Buffer; manifest?: SetManifest; noManifest?: boolean; mismatches: Mismatch[]; problem: string };

function readSetOnce(dir: string, previous: boolean): SetRead {
  const mName = previous ? previousName(MODEL_FILE) : MODEL_FILE;
  let manifestBytes: Buffer;
  try {
    manifestBytes = readFileSync(setPath(dir, MODEL_FILE, previous));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, noManifest: true, mismatches: [], problem: `no ${mName}` };
    throw new SavedModelError(dir, `cannot read ${mName}: ${(e as Error).message}`);
  }
  let manifest: SetManifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as SetManifest;
  } catch (e) {
    return { ok: false, manifestBytes, mismatches: [], problem: `${mName} is not valid JSON (${(e as Error).message})` };
  }
  const bytes = new Map<string, Buffer>();
  if (manifest === null || typeof manifest !== 'object' || typeof manifest.files !== 'object' || manifest.files === null) {
    // Not a vaekit manifest: the caller's format check says what is wrong.
    return { ok: true, manifestBytes, manifest, bytes };
  }
  const mismatches: Mismatch[] = [];
  for (const [name, want] of Object.entries(manifest.files)) {
    const shown = previous ? previousName(name) : name;
    let b: Buffer;
    try {
      b = readFileSync(setPath(dir, name, previous));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SavedModelError(dir, `cannot read ${shown}: ${(e as Error).message}`);
      mismatches.push({ file: name, message: `${shown} is missing` });
      continue;
    }
    const hash = sha256(b);
    if (b.length !== want?.bytes) mismatches.push({ file: name, sha256: hash, message: `${shown} has ${b.length} bytes; ${mName} expects ${want?.bytes}` });
    else if (hash !== want.sha256) mismatches.push({ file: name, sha256: hash, message: `${shown} does not match its SHA-256 in ${mName}` });
    else bytes.set(name, b);
  }
  if (mismatches.length) return { ok: false, manifestBytes, manifest, mismatches, problem: mismatches.map((m) => m.message).join('; ') };
  return { ok: true, manifestBytes, manifest, bytes };
}

/** The manifests of set writes whose model.json is not renamed yet: the saves in flight or interrupted. */
function unfinishedWrites(dir: string): { pid: number; alive: boolean; manifest: SetManifest | null }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: { pid: number; alive: boolean; manifest: SetManifest | null }[] = [];
  for (const name of names) {
    const m = TEMP_PATTERN.exec(name);
    if (!m || m[1] !== MODEL_FILE || m[2] !== 'tmp') continue;
    const pid = Number(m[3]);
    let manifest: SetManifest | null = null;
    try {
      manifest = JSON.parse(readFileSync(join(dir, name), 'utf8')) as SetManifest;
    } catch {
      // Still being written, or removed meanwhile.
    }
    out.push({ pid, alive: pid === process.pid || processAlive(pid), manifest });
  }
  return out;
}

/** How a set was loaded when its current files did not verify. */
export interface SetRecovery {
  /**
   * `interrupted`: a save was stopped half-way (its new files are on disk, its model.json is not);
   * `in-progress`: a live process kept writing the set for longer than the load waits;
   * `damaged`: the files were changed after their save (no save in flight), loaded as asked by `usePrevious`;
   * `non-finite`: the current weights are NaN or ±Infinity, loaded as asked by `usePrevious` (see `loadSavedModel`).
   */
  kind: 'interrupted' | 'in-progress' | 'damaged' | 'non-finite';
  /** What was found, for a message. */
  found: string;
  /** What the previous set holds (`epoch 3` for a checkpoint, else its save time). */
  previous: string;
}

export interface ReadSetOptions {
  /** Load the previous save when the current files were edited or damaged (otherwise an error). */
  usePrevious?: boolean;
  /** How long to wait for a live writer to commit its set before using the previous one (ms, default 3000). */
  waitMs?: number;
}

export interface ReadSet {
  manifest: SetManifest;
  /** True when the previous complete set was read. */
  previous: boolean;
  recovery?: SetRecovery;
  /** How many times the set was read (more than 1: a save was in flight and the read waited for it). */
  attempts: number;
  /** The bytes of a file of the set, exactly those whose hash was checked. */
  file(name: string): Buffer;
}

/** `epoch 3` for a checkpoint, else the save time. */
export function describeSave(m: SetManifest | undefined): string {
  const epoch = (m?.checkpoint as { epoch?: unknown } | undefined)?.epoch;
  if (Number.isInteger(epoch)) return `epoch ${epoch as number}`;
  return m?.savedAt ? `saved at ${m.savedAt}` : 'an earlier save';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readCurrentManifest(dir: string): Buffer | null {
  try {
    return readFileSync(join(dir, MODEL_FILE));
  } catch {
    return null;
  }
}

/**
 * Reads the set of a model directory, each file once, and checks the bytes it returns against
 * model.json. When the current set does not verify it says why:
 *
 * * a live writer (the temporary model.json of a save whose process runs, or a model.json that
 *   changed while it was read): it reads again, up to `waitMs`, then uses the previous set
 *   (`in-progress`);
 * * a save that was stopped half-way (every file that differs is byte for byte a file of a
 *   save's temporary model.json, whose process no longer runs): the previous set (`interrupted`);
 * * otherwise the files were edited or damaged after their save: an error naming the file, or,
 *   with `usePrevious`, the previous set (`damaged`).
 */
export async function readFileSet(dir: string, options: ReadSetOptions = {}): Promise<ReadSet> {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new SavedModelError(dir, 'no such directory (a saved model is a directory with config.json, model.json and weights.bin)');
  }
  if (!st.isDirectory()) throw new SavedModelError(dir, 'not a directory (a saved model is a directory with config.json, model.json and weights.bin)');
  const deadline = Date.now() + (options.waitMs ?? 3000);
  let delay = 5;
  for (let attempts = 1; ; attempts++) {
    const current = readSetOnce(dir, false);
    if (current.ok) return setOf(current, false, attempts);
    const prev = readSetOnce(dir, true);
    if (current.noManifest && prev.ok === false && prev.noManifest) {
      throw new SavedModelError(dir, `not a saved vaekit model: no ${MODEL_FILE} (a saved model has config.json, model.json and weights.bin; train one with \`vaekit train\`)`);
    }
    const writes = unfinishedWrites(dir);
    const explainedBy = (m: Mismatch) => writes.find((w) => m.sha256 !== undefined && w.manifest?.files?.[m.file]?.sha256 === m.sha256);
    const explained = current.mismatches.length > 0 && current.mismatches.every((m) => explainedBy(m) !== undefined);
    const now = readCurrentManifest(dir);
    const changed = current.manifestBytes ? !(now && now.equals(current.manifestBytes)) : now !== null;
    // A live writer: its temporary model.json is on disk until its set is committed (then model.json changes).
    const liveWrite = writes.find((w) => w.alive && w.pid !== process.pid);
    const writing = changed || liveWrite !== undefined;
    if (writing && Date.now() < deadline) {
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
      continue;
    }
    const previous = describeSave(prev.manifest);
    const bothBad = () =>
      new SavedModelError(dir, `the saved model is damaged: ${current.problem}${prev.ok === false && !prev.noManifest ? `; the previous save too: ${prev.problem}` : ''}`);
    if (writing || explained) {
      if (!prev.ok) throw bothBad();
      const pid = explained ? explainedBy(current.mismatches[0]!)!.pid : 0;
      const who = writing
        ? `a save by ${liveWrite ? `PID ${liveWrite.pid}` : `${liveLockHolder(dir) ? `PID ${liveLockHolder(dir)!.pid}` : 'another process'}`} is still in progress`
        : `the last save (by PID ${pid}${pid !== process.pid ? ', which no longer runs' : ''}) was interrupted: ${current.problem}`;
      return setOf(prev, true, attempts, { kind: writing ? 'in-progress' : 'interrupted', found: who, previous });
    }
    const found = `${current.problem} (changed after it was saved: edited or damaged; no save was in progress)`;
    if (options.usePrevious && prev.ok) return setOf(prev, true, attempts, { kind: 'damaged', found, previous });
    if (!prev.ok) throw bothBad();
    throw new SavedModelError(dir, `${found}; the previous save (${previous}) is intact: load it with usePrevious (vaekit: --use-previous), or restore the file`);
  }
}

/** The previous complete set of a model directory, read once and checked; null when there is none or it does not verify. */
export function readPreviousSet(dir: string): ReadSet | null {
  const prev = readSetOnce(dir, true);
  return prev.ok ? setOf(prev, true, 1) : null;
}

function setOf(read: Extract<SetRead, { ok: true }>, previous: boolean, attempts: number, recovery?: SetRecovery): ReadSet {
  return {
    manifest: read.manifest,
    previous,
    attempts,
    ...(recovery ? { recovery } : {}),
    file: (name) => {
      const b = read.bytes.get(name);
      if (!b) throw new Error(`${name} is not a file of the loaded set (it has ${[...read.bytes.keys()].join(', ')})`);
      return b;
    },
  };
}

/** Whether the current set of `dir` verifies (read once). */
function currentSetComplete(dir: string): SetManifest | null {
  const r = readSetOnce(dir, false);
  return r.ok ? r.manifest : null;
}

/**
 * Writes a set of files whose last file `model.json` commits it (it holds the sizes and hashes
 * of the others). Every file goes to a temporary file in `dir` first (fsync'd; one write id for
 * the set); then, if the current set is complete, it is kept as the previous one (hard links
 * named `.prev-<file>`, so no copy); then the temporary files are renamed over the targets,
 * model.json last. At every moment either the current set or the previous set is complete, so
 * a crash or a full disk never loses the last good save; `readFileSet` tells an interrupted
 * save (its temporary model.json explains the new files) from an edited file. After the commit,
 * temporary files of writes that can no longer finish are removed (`removeOrphans`).
 * The caller holds the directory's lock.
 */
export function writeFileSet<M extends SetManifest>(dir: string, files: readonly SetFile[], manifest: Omit<M, 'files'>, stage: WriteStage = () => {}): void {
  const full = {
    ...manifest,
    files: Object.fromEntries(files.map((f) => [f.name, { bytes: f.bytes.length, sha256: sha256(f.bytes) }])),
  };
  const all: SetFile[] = [...files, { name: MODEL_FILE, bytes: new TextEncoder().encode(`${JSON.stringify(full, null, 1)}\n`) }];
  const writeId = randomBytes(4).toString('hex');
  const temps: string[] = [];
  try {
    for (const f of all) temps.push(writeTemp(dir, f.name, f.bytes, writeId));
    stage('temp-written');
    // Keep the current set as the previous one, only if it is complete (never replace a good
    // previous set by a half-written or edited current one).
    const complete = currentSetComplete(dir);
    if (complete) {
      const names = [...new Set([...Object.keys(complete.files ?? {}), MODEL_FILE])];
      for (const name of names) {
        const link = join(dir, `.${name}.prev-${process.pid}-${writeId}`);
        linkSync(join(dir, name), link);
        renameSync(link, setPath(dir, name, true));
      }
      fsyncDir(dir);
    }
    stage('backed-up');
  } catch (e) {
    for (const t of temps) rmSync(t, { force: true });
    throw e;
  }
  for (let i = 0; i < all.length; i++) {
    renameSync(temps[i]!, join(dir, all[i]!.name));
    temps[i] = '';
    stage(`renamed:${all[i]!.name}`);
  }
  fsyncDir(dir);
  removeOrphans(dir);
}
