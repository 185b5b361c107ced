import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonFiniteWeightsError, SavedModelError, createVae, loadSavedModelFromUrl, loadVaeFromUrl, saveVae, tf, type Vae } from '../../plugins/index.js';
import { serveStatic } from '../support/static-server.js';

/**
 * The browser-safe loader reads the same saved-model directory as `loadVae(dir)`, over HTTP: here
 * served from localhost (Node's fetch), and from an in-memory map (the `fetch` option) to damage files.
 */
describe('loadVaeFromUrl', () => {
  let dir: string;
  let vae: Vae;
  let files: Record<string, Uint8Array>;
  const memoryFetch = (over: Record<string, Uint8Array | null>) => async (url: string) => {
    const name = url.slice(url.lastIndexOf('/') + 1);
    const bytes = name in over ? over[name] : files[name];
    return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>) : new Response('not found', { status: 404, statusText: 'Not Found' });
  };
  const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vaekit-url-'));
    vae = createVae({ latentDim: 2, dataDim: 5, encoder: { type: 'planar', hidden: [6], steps: 2 }, likelihood: { type: 'bernoulli', hidden: [6] } }, { seed: 4 });
    await saveVae(vae, dir);
    files = Object.fromEntries(readdirSync(dir).map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
  });
  afterAll(() => {
    vae.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads a saved model served on localhost with the same weights and the same bound', async () => {
    const { base, close } = await serveStatic(dir);
    try {
      for (const url of [`${base}/`, base, `${base}/model.json`]) {
        const loaded = await loadSavedModelFromUrl(url);
        expect(loaded.url).toBe(`${base}/`);
        expect(loaded.config.model.encoder.type).toBe('planar');
        const mine = vae.getWeights();
        const theirs = loaded.vae.getWeights();
        expect(Object.keys(theirs).sort()).toEqual(Object.keys(mine).sort());
        for (const [name, t] of Object.entries(mine)) expect(Array.from(theirs[name]!.dataSync())).toEqual(Array.from(t.dataSync()));
        const x = tf.tensor2d([[1, 0, 1, 1, 0]]);
        vae.random.reseed(3);
        loaded.vae.random.reseed(3);
        const [a, b] = [vae.elbo(x, { samples: 4 }).elbo, loaded.vae.elbo(x, { samples: 4 }).elbo];
        expect(b.dataSync()[0]).toBe(a.dataSync()[0]);
        tf.dispose([x, a, b]);
        loaded.vae.dispose();
      }
    } finally {
      await close();
    }
  });

  it('names the file and what is wrong: missing, of another size, of another hash, not JSON', async () => {
    const url = 'http://host/run/';
    await expect(loadVaeFromUrl(url, { fetch: memoryFetch({ 'weights.bin': null }) })).rejects.toThrow(/^http:\/\/host\/run\/: cannot fetch weights\.bin: HTTP 404 Not Found$/);
    const short = files['weights.bin']!.slice(0, -4);
    await expect(loadVaeFromUrl(url, { fetch: memoryFetch({ 'weights.bin': short }) })).rejects.toThrow(
      new RegExp(`weights\\.bin has ${short.length} bytes; model\\.json lists ${short.length + 4}`),
    );
    const flipped = files['weights.bin']!.slice();
    flipped[0]! ^= 1;
    await expect(loadVaeFromUrl(url, { fetch: memoryFetch({ 'weights.bin': flipped }) })).rejects.toThrow(/weights\.bin has SHA-256 [0-9a-f]{64}; model\.json lists [0-9a-f]{64}/);
    const err = await loadVaeFromUrl(url, { fetch: memoryFetch({ 'model.json': new TextEncoder().encode('<html>') }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SavedModelError);
    expect((err as Error).message).toMatch(/model\.json is not JSON/);
  });

  it('refuses non-finite weights (listed in a consistent model.json) unless asked, and weights that do not fit the config', async () => {
    const bytes = files['weights.bin']!.slice();
    new DataView(bytes.buffer).setFloat32(0, NaN, true);
    const manifest = JSON.parse(new TextDecoder().decode(files['model.json']));
    manifest.files['weights.bin'].sha256 = sha256(bytes);
    const over = { 'weights.bin': bytes, 'model.json': new TextEncoder().encode(JSON.stringify(manifest)) };
    const err = await loadVaeFromUrl('http://host/run', { fetch: memoryFetch(over) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteWeightsError);
    expect((err as Error).message).toMatch(/weights\.bin holds 1 non-finite values/);
    const inspected = await loadVaeFromUrl('http://host/run', { fetch: memoryFetch(over), allowNonFinite: true });
    inspected.dispose();

    const config = JSON.parse(new TextDecoder().decode(files['config.json']));
    config.model.encoder.hidden = [7];
    const cfg = new TextEncoder().encode(JSON.stringify(config));
    manifest.files['weights.bin'].sha256 = sha256(files['weights.bin']!);
    manifest.files['config.json'] = { bytes: cfg.length, sha256: sha256(cfg) };
    await expect(loadVaeFromUrl('http://host/run', { fetch: memoryFetch({ 'config.json': cfg, 'model.json': new TextEncoder().encode(JSON.stringify(manifest)) }) })).rejects.toThrow(
      /the weights do not fit the model .*has shape \[\d+(, \d+)*\] in weights\.bin; the model built from config\.json expects/,
    );
  });
});
