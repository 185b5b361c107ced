import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createVae } from '../../plugins/index.js';
import { encodeVaeWeights, loadSavedModel, MODEL_FORMAT, MODEL_FORMAT_VERSION, saveVae } from '../../src/train/saved-model.js';
import { DirectoryLockedError, lockDirectory } from '../../src/train/run-lock.js';
import { readFileSet } from '../../src/train/file-set.js';

// Real writer processes (test/train/fixtures/save-loop.ts, no tfjs), started together: 6 in all.
const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = join(ROOT, 'test/train/fixtures/save-loop.ts');
const STALE_MS = 2000;

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vaekit-race-'));
  dirs.push(d);
  return d;
};

interface Writer {
  dir: string;
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<string | null>;
}

const modelConfig = (seed: number) => ({
  model: { latentDim: 4, dataDim: 196, encoder: { type: 'gaussian', hidden: [64] }, likelihood: { type: 'bernoulli', hidden: [64] }, seed },
});

/** The files and manifests of two saved models (seeds 1 and 2), for the writers to save alternately. */
async function writeSets(): Promise<string> {
  const sets = [];
  for (const seed of [1, 2]) {
    const vae = createVae(modelConfig(seed));
    const { specs, bytes } = await encodeVaeWeights(vae);
    sets.push({
      files: [
        { name: 'config.json', base64: Buffer.from(JSON.stringify(modelConfig(seed))).toString('base64') },
        { name: 'weights.bin', base64: Buffer.from(bytes).toString('base64') },
      ],
      manifest: { format: MODEL_FORMAT, version: MODEL_FORMAT_VERSION, model: vae.spec, weightsManifest: [{ paths: ['weights.bin'], weights: specs }], savedAt: 'test' },
    });
    vae.dispose();
  }
  const path = join(tmp(), 'sets.json');
  writeFileSync(path, JSON.stringify(sets));
  return path;
}
let setsPath = '';

function startWriter(env: Record<string, string> = {}): Writer {
  const dir = tmp();
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, SAVE_DIR: dir, SAVE_SETS: setsPath, SAVE_STALE_MS: String(STALE_MS), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<string | null>((r) => child.on('exit', (_code, signal) => r(signal)));
  const ready = new Promise<void>((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && res());
    void exited.then(() => rej(new Error(`writer exited before it was ready: ${err}`)));
  });
  return { dir, child, ready, exited };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const temporaries = (dir: string) => readdirSync(dir).filter((f) => /\.(tmp|prev)-\d+-/.test(f));

/** Loads `dir` and checks that the weights it returns are those its model.json lists. */
async function loadChecked(dir: string): Promise<{ consistent: boolean; kind: string; epoch: number }> {
  const loaded = await loadSavedModel(dir);
  const got = sha((await encodeVaeWeights(loaded.vae)).bytes);
  loaded.vae.dispose();
  return {
    consistent: got === loaded.manifest.files['weights.bin']!.sha256,
    kind: loaded.recovery?.kind ?? 'current',
    epoch: (loaded.manifest.checkpoint as { epoch?: number } | undefined)?.epoch ?? 0,
  };
}

describe('saved models under concurrent writers and kill -9', () => {
  it('loaders racing a writer get consistent weights; a second writer is refused naming the PID; kills leave loadable sets, stale locks are taken over, orphans removed', async () => {
    setsPath = await writeSets();
    // Four writers saving in a loop, two that kill themselves at an exact stage of their second save.
    const loops = Array.from({ length: 4 }, () => startWriter());
    const exact = ['backed-up', 'renamed:weights.bin'].map((stage) => ({ stage, w: startWriter({ SAVE_DIE_AT: stage, SAVE_COUNT: '3' }) }));
    const tStart = Date.now();
    await Promise.all(loops.map((w) => w.ready));
    console.log(`writers ready after ${Date.now() - tStart} ms`);

    // A second writer is refused at once, naming the holder.
    for (const w of loops) {
      const err = await lockDirectory(w.dir, { staleMs: STALE_MS }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectoryLockedError);
      expect((err as Error).message).toContain(`locked by another process writing it: PID ${w.child.pid} (since `);
    }

    // Loads racing the writers: every one returns the weights its manifest lists; none calls a live save interrupted.
    const race = { loads: 0, consistent: 0, fellBack: 0, interrupted: 0, errors: 0 };
    const until = Date.now() + 3000;
    while (Date.now() < until || race.loads < 40) {
      const w = loops[race.loads % loops.length]!;
      try {
        const r = await loadChecked(w.dir);
        race.loads++;
        if (r.consistent) race.consistent++;
        if (r.kind === 'in-progress') race.fellBack++;
        if (r.kind === 'interrupted') race.interrupted++;
      } catch {
        race.loads++;
        race.errors++;
      }
    }
    console.log(`racing loads: ${JSON.stringify(race)}`);
    expect(race).toMatchObject({ consistent: race.loads, interrupted: 0, errors: 0 });
    // The set reads alone (no model built), many more: the bytes returned are those model.json lists.
    const reads = { reads: 0, consistent: 0, waited: 0, fellBack: 0 };
    const readsUntil = Date.now() + 2000;
    while (Date.now() < readsUntil) {
      const set = await readFileSet(loops[reads.reads % loops.length]!.dir);
      reads.reads++;
      if (sha(set.file('weights.bin')) === set.manifest.files['weights.bin']!.sha256 && sha(set.file('config.json')) === set.manifest.files['config.json']!.sha256) reads.consistent++;
      if (set.attempts > 1) reads.waited++;
      if (set.recovery) reads.fellBack++;
    }
    console.log(`racing set reads: ${JSON.stringify(reads)}`);
    expect(reads.consistent).toBe(reads.reads);

    // kill -9 at random moments of the loops, and at exact stages: every directory still loads, consistently.
    for (const w of loops) {
      await sleep(Math.floor(Math.random() * 200));
      w.child.kill('SIGKILL');
    }
    console.log(`race done after ${Date.now() - tStart} ms`);
    const signals = await Promise.all([...loops, ...exact.map((e) => e.w)].map((w) => w.exited));
    expect(signals).toEqual(Array(6).fill('SIGKILL'));
    console.log(`all exited after ${Date.now() - tStart} ms`);
    const after: string[] = [];
    for (const w of [...loops, ...exact.map((e) => e.w)]) {
      const r = await loadChecked(w.dir);
      expect(r.consistent).toBe(true);
      after.push(r.kind);
    }
    console.log(`after kill -9: ${after.join(', ')}`);
    // At "renamed:weights.bin" the set is half-committed: the previous save (epoch 1) is used, named as interrupted.
    const half = await loadSavedModel(exact[1]!.w.dir);
    expect(half.recovery?.kind).toBe('interrupted');
    expect(half.recovery?.found).toMatch(new RegExp(`^the last save \\(by PID ${exact[1]!.w.child.pid}, which no longer runs\\) was interrupted: config\\.json does not match .*; weights\\.bin does not match`));
    expect(half.recovery?.previous).toBe('epoch 1');
    half.vae.dispose();

    // The dead writers' locks are taken over once stale, and the next save removes their temporary files.
    const vae = createVae(modelConfig(3));
    const t0 = Date.now();
    for (const w of [...loops, ...exact.map((e) => e.w)]) {
      const lock = await lockDirectory(w.dir, { staleMs: STALE_MS });
      await saveVae(vae, w.dir);
      await lock.release();
      expect(temporaries(w.dir)).toEqual([]);
      const r = await loadChecked(w.dir);
      expect(r.kind).toBe('current');
    }
    console.log(`6 stale locks taken over in ${Date.now() - t0} ms`);
    vae.dispose();
  }, 240_000);
});
