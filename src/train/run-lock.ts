import { readFileSync, realpathSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** The lock of a directory: a directory made by proper-lockfile (mkdir is atomic). */
export const LOCK_NAME = '.vaekit-lock';
/** Who holds the lock (`LockHolder` as JSON), beside it. */
export const LOCK_HOLDER_NAME = '.vaekit-lock.json';
/** A lock not refreshed for this long belongs to a dead process and is taken over. */
export const DEFAULT_STALE_MS = 10_000;

/** The process holding a directory's lock. */
export interface LockHolder {
  pid: number;
  host: string;
  /** When it took the lock (ISO time). */
  since: string;
  /** Its command line. */
  command: string;
}

/** Another process holds the lock of the directory. */
export class DirectoryLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      holder
        ? `${dir}: locked by another process writing it: PID ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''} (since ${holder.since}: ${holder.command}); wait for it to finish or stop it, or choose another directory`
        : `${dir}: locked by another process writing it (${join(dir, LOCK_NAME)} is fresh; no holder recorded in ${LOCK_HOLDER_NAME}); wait for it to finish, or choose another directory`,
    );
    this.name = 'DirectoryLockedError';
  }
}

/** A lock this process holds. */
export interface DirectoryLock {
  /** The directory, as given. */
  readonly dir: string;
  /** Throws when the lock was lost (its lock directory removed or taken over after a stall longer than the stale time). */
  assertHeld(): void;
  /** Releases the lock and removes the holder file. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** Milliseconds without refresh after which a lock is a dead process's (default 10 s; at least 2 s). */
  staleMs?: number;
  /** Called while waiting for the lock of a holder that is no longer running to turn stale. */
  onWait?: (holder: LockHolder | null, waitedMs: number) => void;
}

/**
 * The locks are kept by one worker thread per process (started on the first lock): proper-lockfile
 * refreshes a held lock's mtime on a timer, and the main thread may run for longer than the stale
 * time without yielding (a training epoch); the worker's timers run regardless. When the process
 * dies the refresh stops and the lock turns stale.
 */
const KEEPER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const lockfile = require(workerData.lib);
const releases = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'lock') {
    lockfile
      .lock(m.dir, {
        lockfilePath: m.path,
        realpath: false,
        stale: m.stale,
        update: m.update,
        onCompromised: (e) => {
          releases.delete(m.id);
          parentPort.postMessage({ op: 'compromised', id: m.id, message: e.message });
        },
      })
      .then(
        (release) => {
          releases.set(m.id, release);
          parentPort.postMessage({ op: 'locked', id: m.id });
        },
        (e) => parentPort.postMessage({ op: 'failed', id: m.id, code: e.code, message: e.message }),
      );
  } else if (m.op === 'unlock') {
    const release = releases.get(m.id);
    releases.delete(m.id);
    Promise.resolve(release ? release() : undefined).then(
      () => parentPort.postMessage({ op: 'unlocked', id: m.id }),
      (e) => parentPort.postMessage({ op: 'unlocked', id: m.id, message: e.message }),
    );
  }
});
`;

interface Reply {
  op: 'locked' | 'failed' | 'unlocked' | 'compromised';
  id: number;
  code?: string;
  message?: string;
}

let keeper: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, (r: Reply) => void>();
/** Locks held by this process, by real path of the directory. */
const held = new Map<string, { id: number; dir: string; lockPath: string; holderPath: string; lost: string | null }>();

function keeperWorker(): Worker {
  if (keeper) return keeper;
  const w = new Worker(KEEPER_SOURCE, { eval: true, workerData: { lib: createRequire(import.meta.url).resolve('proper-lockfile') } });
  w.unref();
  w.on('message', (r: Reply) => {
    if (r.op === 'compromised') {
      for (const h of held.values()) if (h.id === r.id) h.lost = r.message ?? 'compromised';
      return;
    }
    const done = waiting.get(r.id);
    waiting.delete(r.id);
    if (waiting.size === 0) w.unref();
    done?.(r);
  });
  w.on('error', (e) => {
    keeper = null;
    for (const [id, done] of waiting) done({ op: 'failed', id, message: `the lock thread failed: ${e.message}` });
    waiting.clear();
  });
  process.on('exit', () => {
    // The worker dies with the process: remove what it holds so that the next run need not wait.
    for (const h of held.values()) {
      if (h.lost) continue;
      try {
        if (readHolder(h.holderPath)?.pid === process.pid) rmSync(h.holderPath, { force: true });
        rmdirSync(h.lockPath);
      } catch {
        // Left for the stale takeover.
      }
    }
  });
  keeper = w;
  return w;
}

function request(message: { op: 'lock' | 'unlock'; id: number; [k: string]: unknown }): Promise<Reply> {
  const w = keeperWorker();
  return new Promise((resolve) => {
    waiting.set(message.id, resolve);
    // While a request is pending the worker keeps the process alive (an await alone does not).
    w.ref();
    w.postMessage(message);
  });
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return Number.isInteger(h?.pid) ? h : null;
  } catch {
    return null;
  }
}

/** Whether a process with this PID runs on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The live holder of a directory's lock, if any: the lock exists and its recorded holder runs
 * on this machine (or on another one: then assumed alive while the lock is fresh).
 */
export function liveLockHolder(dir: string, staleMs = DEFAULT_STALE_MS): LockHolder | null {
  try {
    const age = Date.now() - statSync(join(dir, LOCK_NAME)).mtimeMs;
    if (age > staleMs) return null;
  } catch {
    return null;
  }
  const holder = readHolder(join(dir, LOCK_HOLDER_NAME));
  if (!holder) return null;
  return holder.host !== hostname() || processAlive(holder.pid) ? holder : null;
}

/** The lock this process holds on `dir`, if any. */
export function heldLock(dir: string): DirectoryLock | null {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return null;
  }
  const h = held.get(real);
  return h ? lockHandle(real, h.dir) : null;
}

function lockHandle(real: string, dir: string): DirectoryLock {
  return {
    dir,
    assertHeld() {
      const h = held.get(real);
      if (!h) throw new Error(`${dir}: this process no longer holds the directory's lock`);
      if (h.lost) {
        const now = readHolder(h.holderPath);
        throw new Error(
          `${dir}: the directory's lock was lost (${h.lost})${now && now.pid !== process.pid ? `; PID ${now.pid} holds it now` : ''}: stopping without writing`,
        );
      }
    },
    async release() {
      const h = held.get(real);
      if (!h) return;
      held.delete(real);
      if (!h.lost && readHolder(h.holderPath)?.pid === process.pid) rmSync(h.holderPath, { force: true });
      await request({ op: 'unlock', id: h.id });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Locks an existing directory for writing (proper-lockfile: `<dir>/.vaekit-lock`, refreshed
 * every stale/5 ms; the holder's PID, host, start time and command in `<dir>/.vaekit-lock.json`).
 * A lock held by a live process is refused at once with `DirectoryLockedError` naming its PID. A
 * lock left by a process that no longer runs (killed) is taken over once it is stale: this waits
 * up to the stale time for that. One lock per directory per process.
 */
export async function lockDirectory(dir: string, options: LockOptions = {}): Promise<DirectoryLock> {
  const staleMs = Math.max(2000, options.staleMs ?? DEFAULT_STALE_MS);
  const update = Math.max(1000, Math.floor(staleMs / 5));
  const real = realpathSync(dir);
  if (held.has(real)) throw new Error(`${dir}: this process already holds the directory's lock`);
  const lockPath = join(real, LOCK_NAME);
  const holderPath = join(real, LOCK_HOLDER_NAME);
  const started = Date.now();
  let unknownHolderSince: number | null = null;
  for (;;) {
    const id = nextId++;
    const r = await request({ op: 'lock', id, dir: real, path: lockPath, stale: staleMs, update });
    if (r.op === 'locked') {
      held.set(real, { id, dir, lockPath, holderPath, lost: null });
      break;
    }
    if (r.code !== 'ELOCKED') throw new Error(`${dir}: cannot lock the directory for writing: ${r.message}`);
    const holder = readHolder(holderPath);
    const waited = Date.now() - started;
    // The holder file is written just after the lock: a moment without one is a holder starting.
    if (!holder) unknownHolderSince ??= Date.now();
    const dead = holder ? holder.host === hostname() && !processAlive(holder.pid) : Date.now() - unknownHolderSince! > 1000;
    if (!dead && holder) throw new DirectoryLockedError(dir, holder);
    if (dead && waited > staleMs + 2 * update) throw new DirectoryLockedError(dir, holder);
    if (dead) options.onWait?.(holder, waited);
    await sleep(dead ? 250 : 50);
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
  const tmp = `${holderPath}.tmp-${process.pid}-0`;
  writeFileSync(tmp, `${JSON.stringify(holder)}\n`);
  renameSync(tmp, holderPath);
  return lockHandle(real, dir);
}
