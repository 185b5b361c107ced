import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createVae, tf, type Vae, type VaeConfigInput } from '../../plugins/index.js';
import { loadSavedModel, loadVae, saveVae, writeFileAtomic, MODEL_FORMAT_VERSION } from '../../src/train/saved-model.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vaekit-saved-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const config = (seed: number): VaeConfigInput => ({
  model: { latentDim: 3, dataDim: 16, encoder: { type: 'gaussian', hidden: [8] }, likelihood: { type: 'bernoulli', hidden: [8] }, seed },
});

async function flat(vae: Vae): Promise<number[]> {
  const out: number[] = [];
  for (const v of vae.variables()) out.push(...(await v.variable.data()));
  return out;
}

const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));

describe('saveVae / loadVae', () => {
  it('writes config.json, a tfjs weights manifest and weights.bin, and loads the same model back', async () => {
    const dir = tmp();
    const vae = createVae(config(3));
    await saveVae(vae, dir, { config: config(3) });
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.json', 'weights.bin']);
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(manifest.version).toBe(MODEL_FORMAT_VERSION);
    expect(manifest.weightsManifest[0].paths).toEqual(['weights.bin']);
    // The manifest is the tfjs format: tf.io.decodeWeights reads weights.bin with it.
    const bin = readFileSync(join(dir, 'weights.bin'));
    const decoded = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length), manifest.weightsManifest[0].weights);
    expect(Object.keys(decoded).sort()).toEqual(Object.keys(vae.getWeights()).sort());
    tf.dispose(Object.values(decoded));

    const back = await loadVae(dir);
    expect(await flat(back)).toEqual(await flat(vae));
    const x = tf.tensor2d(Array.from({ length: 32 }, (_, i) => (i % 3) / 2), [2, 16]);
    vae.random.reseed(5);
    back.random.reseed(5);
    const a = vae.elbo(x, { samples: 4 }).elbo;
    const b = back.elbo(x, { samples: 4 }).elbo;
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    vae.dispose();
    back.dispose();
  });

  it('keeps the previous save loadable when a save dies between renames, and recovers on the next save', async () => {
    const dir = tmp();
    const first = createVae(config(1));
    await saveVae(first, dir, { config: config(1) });
    const firstWeights = await flat(first);
    const second = createVae(config(2));
    // The new weights.bin is in place, model.json is still the old one: the current set is inconsistent.
    await expect(
      saveVae(second, dir, { config: config(2), stage: (s) => {
        if (s === 'renamed:weights.bin') throw new Error('simulated crash');
      } }),
    ).rejects.toThrow('simulated crash');
    const loaded = await loadSavedModel(dir);
    expect(loaded.recovered).toBe(true);
    expect(await flat(loaded.vae)).toEqual(firstWeights);
    loaded.vae.dispose();

    // A save dying before any rename (e.g. a full disk while writing) leaves no temporary files and the set untouched.
    const before = snapshot(dir);
    await expect(saveVae(second, dir, { config: config(2), stage: (s) => {
      if (s === 'temp-written') throw new Error('disk full');
    } })).rejects.toThrow('disk full');
    expect(snapshot(dir)).toEqual(before);

    // The next good save must not back up the broken set over the good previous one.
    await saveVae(second, dir, { config: config(2) });
    const now = await loadSavedModel(dir);
    expect(now.recovered).toBe(false);
    expect(await flat(now.vae)).toEqual(await flat(second));
    now.vae.dispose();
    expect(existsSync(join(dir, '.prev-weights.bin'))).toBe(true);
    first.dispose();
    second.dispose();
  });

  it('says what is wrong with a missing, foreign, newer or mismatched model directory', async () => {
    await expect(loadVae('/nonexistent/run')).rejects.toThrow('/nonexistent/run: no such directory');
    const empty = tmp();
    await expect(loadVae(empty)).rejects.toThrow(/not a saved vaekit model: no model.json/);

    const dir = tmp();
    const vae = createVae(config(1));
    await saveVae(vae, dir, { config: config(1), plugins: ['./my-plugin.js'] });
    vae.dispose();
    const manifestPath = join(dir, 'model.json');
    const good = readFileSync(manifestPath, 'utf8');

    writeFileSync(manifestPath, good.replace('"version": 1', '"version": 7'));
    await expect(loadVae(dir)).rejects.toThrow(/format version 7; this vaekit reads version 1 \(the model was saved by a newer vaekit: upgrade vaekit to load it\)/);
    writeFileSync(manifestPath, good.replace('"format": "vaekit-model"', '"format": "keras"'));
    await expect(loadVae(dir)).rejects.toThrow(/not a vaekit model \(format "keras"; expected "vaekit-model"\)/);
    writeFileSync(manifestPath, good);

    // A config.json that builds a different network (with its checksum updated, as a user edit would not).
    const cfgPath = join(dir, 'config.json');
    const cfg = readFileSync(cfgPath, 'utf8').replace('"hidden": [\n        8\n      ]', '"hidden": [\n        9\n      ]');
    expect(cfg).not.toBe(readFileSync(cfgPath, 'utf8'));
    writeFileSync(cfgPath, cfg);
    await expect(loadVae(dir)).rejects.toThrow(/damaged: config.json (has \d+ bytes|does not match)/);
    const m = JSON.parse(good);
    const { createHash } = await import('node:crypto');
    m.files['config.json'] = { bytes: Buffer.byteLength(cfg), sha256: createHash('sha256').update(cfg).digest('hex') };
    writeFileSync(manifestPath, JSON.stringify(m));
    await expect(loadVae(dir)).rejects.toThrow(/the weights do not fit the model .*"encoder\/net\/0\/kernel" has shape \[16, 8\] in weights.bin; the model built from config.json expects \[16, 9\]/);

    // A config naming a user plugin that is not loaded: the error lists the built-ins and names the plugin file.
    const user = JSON.stringify({ model: { ...config(1).model, encoder: { type: 'mine' } } }, null, 2);
    m.files['config.json'] = { bytes: Buffer.byteLength(user), sha256: createHash('sha256').update(user).digest('hex') };
    writeFileSync(cfgPath, user);
    writeFileSync(manifestPath, JSON.stringify(m));
    await expect(loadVae(dir)).rejects.toThrow(/model.encoder.type: expected a registered encoder plugin: .*"gaussian".*got "mine" \(this model was saved with the user plugin \.\/my-plugin\.js: pass --plugin \.\/my-plugin\.js\)/);
  });

  it('writes single files atomically, leaving no temporary file', () => {
    const dir = tmp();
    writeFileAtomic(join(dir, 'a.json'), '{"a":1}');
    writeFileAtomic(join(dir, 'a.json'), '{"a":2}');
    expect(readdirSync(dir)).toEqual(['a.json']);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('{"a":2}');
  });
});

describe('models saved before the renames', () => {
  // test/train/fixtures/saved-before-renames: a model saved when the likelihood's weights were
  // named `decoder/…` and the two-level encoder and prior were also called "ladder".
  const fixture = new URL('./fixtures/saved-before-renames/', import.meta.url);

  it('load, with the weights renamed decoder/… → likelihood/… and "ladder" read as "two-level"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vaekit-old-'));
    try {
      for (const f of ['config.json', 'model.json', 'weights.bin']) writeFileSync(join(dir, f), readFileSync(new URL(f, fixture)));
      const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
      const specs = manifest.weightsManifest[0]!.weights;
      expect(specs.filter((s) => s.name.startsWith('decoder/')).length).toBe(5);
      const saved = tf.io.decodeWeights(new Uint8Array(readFileSync(join(dir, 'weights.bin'))).buffer, specs);
      const { vae, config } = await loadSavedModel(dir);
      expect([config.model.encoder.type, config.model.prior.type]).toEqual(['two-level', 'two-level']);
      const w = vae.getWeights();
      expect(Object.keys(w).filter((n) => n.startsWith('decoder/'))).toEqual([]);
      for (const s of specs) {
        const now = s.name.replace(/^decoder\//, 'likelihood/');
        expect(Array.from(w[now]!.dataSync()), now).toEqual(Array.from(saved[s.name]!.dataSync()));
      }
      tf.dispose(Object.values(saved));
      vae.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('written by hand with "ladder" are refused with a hint to "two-level" (only saved models are translated)', () => {
    const config = JSON.parse(readFileSync(new URL('config.json', fixture), 'utf8')) as VaeConfigInput;
    expect(() => createVae(config)).toThrow(/^model\.encoder\.type: expected "two-level" \("ladder" was an old alias/);
  });
});
