import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createVae, tf, type Vae, type VaeConfigInput } from '../../plugins/index.js';
import { loadMnist } from '../../src/data/mnist.js';
import { train, NonFiniteLossError } from '../../src/train/trainer.js';
import { disposeState, loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { encodeVaeWeights, loadSavedModel, nonFiniteValues, NonFiniteWeightsError, saveVae } from '../../src/train/saved-model.js';
import { removeOrphans } from '../../src/train/file-set.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vaekit-recovery-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const config = (seed: number): VaeConfigInput => ({
  model: { latentDim: 3, dataDim: 16, encoder: { type: 'gaussian', hidden: [8] }, likelihood: { type: 'bernoulli', hidden: [8] }, seed },
});
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const files = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, sha(readFileSync(join(dir, f)))]));
/** A PID that no process has (a child that has exited). */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

async function weightsSha(vae: Vae): Promise<string> {
  return sha((await encodeVaeWeights(vae)).bytes);
}

/** Two saves of different models in `dir`: epoch 1 (seed 1) then epoch 2 (seed 2). */
async function twoSaves(dir: string): Promise<{ first: string; second: string }> {
  const a = createVae(config(1));
  const b = createVae(config(2));
  await saveVae(a, dir, { config: config(1), checkpoint: { epoch: 1 } });
  await saveVae(b, dir, { config: config(2), checkpoint: { epoch: 2 } });
  const out = { first: await weightsSha(a), second: await weightsSha(b) };
  a.dispose();
  b.dispose();
  return out;
}

describe('recovery says what it found', () => {
  it('a save stopped at any stage loads the old or the new set, consistent, and names the interrupted save and the epoch', async () => {
    const stages = ['temp-written', 'backed-up', 'renamed:config.json', 'renamed:weights.bin', 'renamed:model.json'];
    const results: string[] = [];
    for (const stage of stages) {
      const dir = tmp();
      const a = createVae(config(1));
      const b = createVae(config(2));
      await saveVae(a, dir, { config: config(1), checkpoint: { epoch: 1 } });
      await expect(
        saveVae(b, dir, {
          config: config(2),
          checkpoint: { epoch: 2 },
          stage: (s) => {
            if (s === stage) throw new Error('crash');
          },
        }),
      ).rejects.toThrow('crash');
      const loaded = await loadSavedModel(dir);
      const got = await weightsSha(loaded.vae);
      // Whatever loads is one complete set: its weights are those its model.json lists.
      expect(got).toBe(loaded.manifest.files['weights.bin']!.sha256);
      const epoch = (loaded.manifest.checkpoint as { epoch: number }).epoch;
      results.push(`${stage}: epoch ${epoch}${loaded.recovery ? ` (${loaded.recovery.kind})` : ''}`);
      if (loaded.recovery) {
        expect(loaded.recovery.found).toMatch(/^the last save \(by PID \d+\) was interrupted: /);
        expect(loaded.recovery.previous).toBe('epoch 1');
      }
      expect(got).toBe(await weightsSha(epoch === 1 ? a : b));
      [a, b, loaded.vae].forEach((v) => v.dispose());
    }
    // Before any rename the old set is current; between the first rename and model.json's the
    // current set is half-committed (interrupted → the previous, epoch 1); after it, the new one.
    expect(results).toEqual([
      'temp-written: epoch 1',
      'backed-up: epoch 1',
      'renamed:config.json: epoch 1 (interrupted)',
      'renamed:weights.bin: epoch 1 (interrupted)',
      'renamed:model.json: epoch 2',
    ]);
  });

  it('an edited config.json or a damaged optimizer.bin is an error naming the file, not an interrupted save; usePrevious loads the previous save', async () => {
    const dir = tmp();
    const vae = createVae(config(1));
    const data = { name: 'rows', x: new Float32Array(16 * 20).map((_, i) => (i % 3 === 0 ? 1 : 0)), rows: 20, dim: 16, binarize: 'none' as const };
    await train(vae, data, {
      epochs: 2,
      batchSize: 10,
      seed: 1,
      quiet: true,
      progress: false,
      onEpochEnd: async (_r, capture) => {
        const state = await capture();
        await saveCheckpoint(dir, vae, state, { config: config(1) });
        disposeState(state);
      },
    });
    vae.dispose();
    const cfg = join(dir, 'config.json');
    const good = readFileSync(cfg, 'utf8');
    writeFileSync(cfg, good.replace('"latentDim": 3', '"latentDim": 3 '));
    await expect(loadSavedModel(dir)).rejects.toThrow(
      /config\.json has \d+ bytes; model\.json expects \d+ \(changed after it was saved: edited or damaged; no save was in progress\); the previous save \(epoch 1\) is intact: load it with usePrevious/,
    );
    const prev = await loadCheckpoint(dir, { usePrevious: true });
    expect(prev.epoch).toBe(1);
    expect(prev.recovery).toMatchObject({ kind: 'damaged', previous: 'epoch 1' });
    prev.vae.dispose();
    disposeState(prev.state);
    writeFileSync(cfg, good);

    // One flipped byte of optimizer.bin (same size): named as damaged too.
    const opt = join(dir, 'optimizer.bin');
    const bytes = readFileSync(opt);
    bytes[100] = bytes[100]! ^ 1;
    writeFileSync(opt, bytes);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/optimizer\.bin does not match its SHA-256 in model\.json \(changed after it was saved/);
  });
});

describe('non-finite weights are never saved or silently loaded', () => {
  it('saveVae refuses a NaN weight and leaves the directory as it was', async () => {
    const dir = tmp();
    const vae = createVae(config(1));
    await saveVae(vae, dir, { config: config(1) });
    const before = files(dir);
    const v = vae.variables()[0]!.variable;
    const values = v.dataSync().slice();
    values[3] = Number.NaN;
    values[5] = Infinity;
    v.assign(tf.tensor(values, v.shape));
    const err = await saveVae(vae, dir, { config: config(1) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteWeightsError);
    expect((err as Error).message).toBe(
      `${dir}: refusing to save (the previous save is kept): weights.bin would hold 2 non-finite values (NaN or ±Infinity), in "${vae.variables()[0]!.name}" (2 of ${values.length})`,
    );
    expect(files(dir)).toEqual(before);
    vae.dispose();
  });

  it('the loader refuses non-finite weights with a message, unless allowNonFinite', async () => {
    const dir = tmp();
    const vae = createVae(config(1));
    await saveVae(vae, dir, { config: config(1) });
    // Rewrite weights.bin with one NaN and fix its hash in model.json (as a buggy writer would have).
    const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const w = readFileSync(join(dir, 'weights.bin'));
    w.writeFloatLE(Number.NaN, 8);
    writeFileSync(join(dir, 'weights.bin'), w);
    m.files['weights.bin'].sha256 = sha(w);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
    await expect(loadSavedModel(dir)).rejects.toThrow(/cannot load the model \(pass allowNonFinite to inspect it\): weights\.bin holds 1 non-finite values \(NaN or ±Infinity\), in ".*" \(1 of \d+\)/);
    const inspected = await loadSavedModel(dir, { allowNonFinite: true });
    expect(Number.isNaN(inspected.vae.variables()[0]!.variable.dataSync()[2])).toBe(true);
    inspected.vae.dispose();

    // With a finite previous save (a run saved by an older vaekit): named, and loaded with usePrevious.
    const run = tmp();
    await saveVae(vae, run, { config: config(1), checkpoint: { epoch: 1 } });
    await saveVae(vae, run, { config: config(1), checkpoint: { epoch: 2 } });
    writeFileSync(join(run, 'weights.bin'), w);
    const m2 = JSON.parse(readFileSync(join(run, 'model.json'), 'utf8'));
    m2.files['weights.bin'].sha256 = sha(w);
    writeFileSync(join(run, 'model.json'), JSON.stringify(m2));
    await expect(loadSavedModel(run)).rejects.toThrow(
      /cannot load the model \(load the previous save \(epoch 1\) with usePrevious \(vaekit: --use-previous\), or pass allowNonFinite to inspect it\): weights\.bin holds 1 non-finite values/,
    );
    const previous = await loadSavedModel(run, { usePrevious: true });
    expect(previous.recovery).toEqual({ kind: 'non-finite', found: 'weights.bin holds 1 non-finite values (NaN or ±Infinity)', previous: 'epoch 1' });
    expect(await weightsSha(previous.vae)).toBe(await weightsSha(vae));
    previous.vae.dispose();
    vae.dispose();
  });

  it('counts non-finite float32 values per tensor and skips int32 ones', () => {
    const f = new Float32Array([1, Number.NaN, Infinity, -Infinity, 2]);
    const i = new Int32Array([7]);
    const bytes = new Uint8Array(24);
    bytes.set(new Uint8Array(i.buffer), 0);
    bytes.set(new Uint8Array(f.buffer), 4);
    const specs = [
      { name: 'iter', shape: [], dtype: 'int32' as const },
      { name: 'w', shape: [5], dtype: 'float32' as const },
    ];
    expect(nonFiniteValues(bytes, specs)).toEqual([{ name: 'w', count: 3, size: 5 }]);
    // An odd byte offset (a Buffer from a pool) reads the same.
    const odd = new Uint8Array(25).subarray(1);
    odd.set(bytes);
    expect(nonFiniteValues(odd, specs)).toEqual([{ name: 'w', count: 3, size: 5 }]);
  });

  it('learning rate 1e39: training stops at the first update, rolled back, and no checkpoint on disk holds a non-finite value', async () => {
    const dir = tmp();
    const cfg: VaeConfigInput = { model: { latentDim: 4, encoder: { type: 'gaussian', hidden: [16] }, likelihood: { type: 'bernoulli', hidden: [16] }, seed: 1 } };
    const data = loadMnist({ split: 'train', limit: 100 });
    for (const syncEvery of [1, 16]) {
      const vae = createVae(cfg);
      const initial = await weightsSha(vae);
      await saveCheckpoint(dir, vae, null, { config: cfg });
      const err = await train(vae, data, {
        epochs: 2,
        batchSize: 50,
        learningRate: 1e39,
        seed: 1,
        syncEvery,
        quiet: true,
        progress: false,
        onEpochEnd: async (_r, capture) => {
          const state = await capture();
          await saveCheckpoint(dir, vae, state, { config: cfg });
          disposeState(state);
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NonFiniteLossError);
      expect((err as NonFiniteLossError).nonFiniteAfterUpdate).toBeGreaterThan(0);
      expect((err as Error).message).toMatch(/^training stopped: the update at epoch 1, step 1 made \d+ weights or optimiser moments non-finite \(NaN or ±Infinity\) and was rolled back/);
      // Rolled back: the model is exactly as before the step.
      expect(await weightsSha(vae)).toBe(initial);
      vae.dispose();
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.bin'))) {
        const m = JSON.parse(readFileSync(join(dir, f.startsWith('.prev-') ? '.prev-model.json' : 'model.json'), 'utf8'));
        const specs = f.endsWith('weights.bin') ? m.weightsManifest[0].weights : m.checkpoint.optimizer.weights;
        expect(nonFiniteValues(readFileSync(join(dir, f)), specs)).toEqual([]);
      }
    }
  });
});

describe('orphaned temporary files', () => {
  it('the next save removes those of dead processes and keeps those of live ones', async () => {
    const dir = tmp();
    const vae = createVae(config(1));
    await saveVae(vae, dir, { config: config(1) });
    const dead = deadPid();
    const orphans = [`.weights.bin.tmp-${dead}-0a1b2c3d`, `.model.json.tmp-${dead}-0a1b2c3d`, `.config.json.prev-${dead}-99ff0011`];
    const live = `.weights.bin.tmp-${process.ppid}-0a1b2c3d`;
    for (const f of [...orphans, live]) writeFileSync(join(dir, f), 'x');
    // The stray model.json temporary does not explain anything: the set still loads as it is.
    const loaded = await loadSavedModel(dir);
    expect(loaded.recovered).toBe(false);
    loaded.vae.dispose();
    await saveVae(vae, dir, { config: config(1) });
    const left = readdirSync(dir);
    for (const f of orphans) expect(left).not.toContain(f);
    expect(left).toContain(live);
    expect(removeOrphans(dir)).toEqual([]);
    vae.dispose();
  });
});
