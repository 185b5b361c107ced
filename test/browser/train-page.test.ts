import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_INDEPENDENT_RUN, debianPackage, requires, requiresForEach } from '../support/requires.js';
import { serveStatic } from '../support/static-server.js';
import { selectBackend } from '../../plugins/browser.js';
import { runLinearGaussian, type RunReport } from './fixtures/linear-gaussian-run.js';

/**
 * A page built from the browser entry trains a 2-D-latent VAE on tfjs's wasm backend in headless
 * Chromium (Debian's `chromium`, driven by playwright-core), served from localhost with its wasm
 * binaries among its own files. The numbers it reports are checked against the exact log p(x)
 * of the linear-Gaussian model that made the data, and a screenshot is written.
 *
 * Without /usr/bin/chromium (or $VAEKIT_CHROMIUM) the tests skip, with the reason listed after the run.
 */
const CHROMIUM = process.env.VAEKIT_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_PACKAGE = debianPackage('chromium', 'the browser the page test drives through playwright-core', [CHROMIUM]);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Where the screenshot goes ($VAEKIT_SCREENSHOT_DIR, else a temporary folder; the path is logged). */
const SHOT_DIR = process.env.VAEKIT_SCREENSHOT_DIR ?? join(tmpdir(), 'vaekit-browser-shots');

describe('a VAE trained in headless Chromium on the wasm backend', () => {
  requiresForEach(BACKEND_INDEPENDENT_RUN);
  let dir: string;
  let close: (() => Promise<void>) | undefined;
  let base: string;
  let browserReport: RunReport | undefined;
  beforeAll(async () => {
    if (CHROMIUM_PACKAGE.missing() !== null || BACKEND_INDEPENDENT_RUN.missing() !== null) return;
    dir = mkdtempSync(join(tmpdir(), 'vaekit-page-'));
    await build({
      entryPoints: ['test/browser/fixtures/train-page.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outfile: join(dir, 'train-page.js'),
      logLevel: 'silent',
    });
    copyFileSync('test/browser/fixtures/page.html', join(dir, 'index.html'));
    mkdirSync(join(dir, 'wasm'));
    const wasmDist = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
    for (const f of readdirSync(wasmDist).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(wasmDist, f), join(dir, 'wasm', f));
    ({ close, base } = await serveStatic(dir));
  }, 120_000);
  afterAll(async () => {
    await close?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports finite ELBOs that improve, stay below the exact log p(x) and close the gap; no request leaves the page', async (ctx) => {
    requires(ctx, CHROMIUM_PACKAGE);
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'vaekit-chromium-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const foreign: string[] = [];
    const consoleErrors: string[] = [];
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.on('request', (r) => {
        if (!r.url().startsWith(base)) foreign.push(r.url());
      });
      page.on('response', (res) => {
        if (res.status() >= 400) consoleErrors.push(`${res.status()} ${res.url()}`);
      });
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      await page.setViewportSize({ width: 720, height: 520 });
      await page.goto(`${base}/index.html`);
      await page.waitForFunction(() => {
        const w = globalThis as unknown as { vaekitReport?: unknown; vaekitError?: unknown };
        return w.vaekitReport !== undefined || w.vaekitError !== undefined;
      }, undefined, { timeout: 280_000, polling: 500 });
      const { report, error } = await page.evaluate(() => {
        const w = globalThis as unknown as { vaekitReport?: RunReport; vaekitError?: string };
        return { report: w.vaekitReport, error: w.vaekitError };
      });
      mkdirSync(SHOT_DIR, { recursive: true });
      const shot = join(SHOT_DIR, 'train-page.png');
      await page.screenshot({ path: shot });
      console.log(`browser run: ${JSON.stringify({ ...report, elbo: undefined, first: report?.elbo[0], last: report?.elbo.at(-1) })}; screenshot ${shot}`);

      expect(error).toBeUndefined();
      expect(consoleErrors).toEqual([]);
      expect(foreign).toEqual([]);
      const r = report!;
      browserReport = r;
      expect(r.backend).toBe('wasm');
      expect(r.steps).toBe(300);
      expect(r.elbo).toHaveLength(31);
      expect(r.elbo.every(Number.isFinite)).toBe(true);
      expect(Number.isFinite(r.exactLogPx)).toBe(true);
      // Training improves the test ELBO by several nats (≈ −14 → −7.6 in Node on the same seeds).
      expect(r.elbo.at(-1)!).toBeGreaterThan(r.elbo[0]! + 3);
      // A held-out ELBO lies below the model's log p(x), whose test-set mean lies below the
      // generating model's (Gibbs' inequality, up to sampling noise of 2000 rows: ≪ the margin here).
      expect(Math.max(...r.elbo)).toBeLessThan(r.exactLogPx);
      // The gap log p(x) − ELBO at the end is under a third of the gap at the start.
      expect(r.exactLogPx - r.elbo.at(-1)!).toBeLessThan((r.exactLogPx - r.elbo[0]!) / 3);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 300_000);

  it('gives the same numbers as the same run in Node on the wasm backend', async (ctx) => {
    requires(ctx, CHROMIUM_PACKAGE);
    expect(browserReport, 'the browser run above did not report').toBeDefined();
    await selectBackend('wasm', { quiet: true });
    const node = await runLinearGaussian('wasm');
    console.log(`steps/s: page ${browserReport!.stepsPerSecond.toFixed(1)}, Node ${node.stepsPerSecond.toFixed(1)} (same run, wasm, one after the other)`);
    expect(node.exactLogPx).toBe(browserReport!.exactLogPx);
    // The same weights, noise and kernels (tfjs-wasm's and vaekit's own wasm modules) in both:
    // equal up to float32 rounding of a different summation order, if any.
    for (let i = 0; i < node.elbo.length; i++) expect(browserReport!.elbo[i]).toBeCloseTo(node.elbo[i]!, 4);
  }, 300_000);
});
