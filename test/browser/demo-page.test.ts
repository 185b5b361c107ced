import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_INDEPENDENT_RUN, debianPackage, requires, requiresForEach } from '../support/requires.js';
import { serveStatic } from '../support/static-server.js';
import { selectBackend } from '../../plugins/browser.js';
import { runExplorer, DEFAULT_SETTINGS, type ExplorerSettings } from '../../demo/src/explorer-run.js';

/**
 * The demo page (demo/), built as `npm run build:demo` builds it (the example model trained by the
 * CLI, then `vite build`), served from localhost and driven in headless Chromium (Debian's
 * `chromium` through playwright-core): the bound explorer trains an encoder on the wasm backend and
 * its numbers, read off the page, are checked against the exact log p(x); the saved-model view
 * loads the example MNIST model from its URL. Screenshots go to $VAEKIT_SCREENSHOT_DIR (else a
 * temporary folder; the paths are logged). Without /usr/bin/chromium the tests skip, saying why.
 */
const CHROMIUM = process.env.VAEKIT_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_PACKAGE = debianPackage('chromium', 'the browser the page test drives through playwright-core', [CHROMIUM]);
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOT_DIR = process.env.VAEKIT_SCREENSHOT_DIR ?? join(tmpdir(), 'vaekit-browser-shots');

/** The explorer run the test makes in the page and again in Node. */
const RUN: ExplorerSettings = { ...DEFAULT_SETTINGS, kind: 'two-modes', encoder: 'gaussian', objective: 'elbo', samples: 1, steps: 300, every: 20, seed: 1 };

/** The DOM shapes the page callbacks read (this project's type-check has no DOM library; casts only: the callbacks run in the page). */
interface DataElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}
interface Canvas2d {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

interface Row {
  x: number;
  exact: number;
  elbo: number;
  iwae: number;
  logphat: number;
  gap: number;
  step: number;
}

describe('the demo page in headless Chromium', () => {
  requiresForEach(BACKEND_INDEPENDENT_RUN);
  let out: string;
  let profile: string;
  let base: string;
  let close: (() => Promise<void>) | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  const foreign: string[] = [];
  const errors: string[] = [];
  let pageRate = NaN;
  let pageElbo: number[] = [];

  beforeAll(async () => {
    if (CHROMIUM_PACKAGE.missing() !== null || BACKEND_INDEPENDENT_RUN.missing() !== null) return;
    out = mkdtempSync(join(tmpdir(), 'vaekit-demo-'));
    // `npm run build:demo`, into a temporary folder.
    execFileSync('npx', ['tsx', 'demo/build-example.ts'], { stdio: 'pipe', timeout: 600_000 });
    execFileSync('npx', ['vite', 'build', '--config', 'demo/vite.config.ts', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], { stdio: 'pipe', timeout: 300_000 });
    ({ base, close } = await serveStatic(out));
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'vaekit-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setViewportSize({ width: 1000, height: 820 });
    await page.goto(`${base}/index.html`);
    await page.waitForSelector('#backend[data-backend]:not([data-backend=""])', { timeout: 60_000 });
  }, 900_000);

  afterAll(async () => {
    await context?.close();
    await close?.();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('the explorer trains a Gaussian encoder on the wasm backend: every bound below the exact log p(x), the gap shrinking to about log 2 on two modes', async (ctx) => {
    requires(ctx, CHROMIUM_PACKAGE);
    expect(await page.getAttribute('#backend', 'data-backend')).toBe('wasm');
    await page.selectOption('select[name=kind]', RUN.kind);
    await page.selectOption('select[name=encoder]', RUN.encoder);
    await page.selectOption('select[name=objective]', RUN.objective);
    await page.fill('input[name=steps]', String(RUN.steps));
    await page.fill('input[name=every]', String(RUN.every));
    await page.click('#train');
    await page.waitForSelector('#explorer-status:is([data-state=done], [data-state=error])', { timeout: 280_000 });
    const status = (await page.$eval('#explorer-status', (e) => ({ ...(e as unknown as DataElement).dataset, text: (e as unknown as DataElement).textContent }))) as Record<string, string | undefined>;
    mkdirSync(SHOT_DIR, { recursive: true });
    const shot = join(SHOT_DIR, 'demo-explorer.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`explorer: ${status.text}; screenshot ${shot}`);
    expect(status.state, status.text ?? '').toBe('done');
    expect(Number(status.step)).toBe(RUN.steps);
    pageRate = Number(status.stepsPerSecond);

    const rows = (await page.$$eval('#metrics tbody tr', (trs) => trs.map((t) => ({ ...(t as unknown as DataElement).dataset })))).map(
      (d) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Number(v)])) as unknown as Row,
    );
    expect(rows.map((r) => r.x)).toEqual([1.2, 2.5, 4]);
    for (const r of rows) {
      expect(r.step).toBe(RUN.steps);
      // ELBO ≤ IWAE_10 ≤ log p(x) (in expectation; 2000 draws: Monte Carlo error ≪ 0.05 nats here).
      expect(r.elbo).toBeLessThan(r.iwae + 0.05);
      expect(r.iwae).toBeLessThan(r.exact + 0.05);
      expect(r.logphat).toBeLessThan(r.exact + 0.05);
      expect(r.gap).toBeCloseTo(r.exact - r.elbo, 9);
      // Two separated modes of equal mass and one Gaussian q: KL(q ‖ p(z|x)) ≥ log 2 − (q's mass on the other mode) ≈ log 2.
      expect(r.gap).toBeGreaterThan(Math.log(2) - 0.1);
      expect(r.gap).toBeLessThan(Math.log(2) + 0.8);
    }

    // The curves of the chosen x (the first): ELBO from the chart's data, the gap to log p(x) shrinking.
    const lines = await page.$$eval('#bound-chart polyline', (ps) => ps.map((p) => ({ name: p.getAttribute('data-name'), steps: JSON.parse(p.getAttribute('data-steps')!) as number[], values: JSON.parse(p.getAttribute('data-values')!) as number[] })));
    const elbo = lines.find((l) => l.name === 'ELBO')!;
    const exact = lines.find((l) => l.name === 'exact log p(x)')!.values[0]!;
    expect(exact).toBeCloseTo(rows[0]!.exact, 9);
    expect(elbo.steps).toEqual(Array.from({ length: RUN.steps / RUN.every + 1 }, (_, i) => i * RUN.every));
    expect(elbo.values.every((v) => v < exact)).toBe(true);
    expect(exact - elbo.values.at(-1)!).toBeLessThan((exact - elbo.values[0]!) / 2);
    pageElbo = elbo.values;
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
  }, 300_000);

  it('the saved-model view loads the example MNIST model from its URL: 64 finite samples, 16 reconstructions, a bound report in order', async (ctx) => {
    requires(ctx, CHROMIUM_PACKAGE);
    await page.click('#tab-saved');
    await page.click('#load');
    await page.waitForSelector('#saved-status:is([data-state=loaded], [data-state=error])', { timeout: 280_000 });
    const status = (await page.$eval('#saved-status', (e) => ({ ...(e as unknown as DataElement).dataset, text: (e as unknown as DataElement).textContent }))) as Record<string, string | undefined>;
    const shot = join(SHOT_DIR, 'demo-saved-model.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`saved model: ${status.text}; screenshot ${shot}`);
    expect(status.state, status.text ?? '').toBe('loaded');
    expect(status.dataDim).toBe('784');
    expect(status.samples).toBe('64');
    expect(status.samplesFinite).toBe('true');
    expect(status.reconstructions).toBe('16');
    // The canvases hold the pictures: 8×8 images of 28×28 at 2× with 2-pixel gaps.
    expect(await page.$eval('#samples', (c) => [(c as unknown as Canvas2d).width, (c as unknown as Canvas2d).height])).toEqual([8 * 58 + 2, 8 * 58 + 2]);
    // Not blank: the samples' pixels vary.
    const spread = await page.$eval('#samples', (c) => {
      const canvas = c as unknown as Canvas2d;
      const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let lo = 255;
      let hi = 0;
      for (let i = 0; i < d.length; i += 4) {
        lo = Math.min(lo, d[i]!);
        hi = Math.max(hi, d[i]!);
      }
      return hi - lo;
    });
    expect(spread).toBeGreaterThan(100);
    const report = Object.fromEntries(await page.$$eval('#report tr[data-key]', (trs) => trs.map((t) => [(t as unknown as DataElement).dataset.key!, Number((t as unknown as DataElement).dataset.value)] as const)));
    for (const v of Object.values(report)) expect(Number.isFinite(v)).toBe(true);
    // ELBO = reconstruction − KL (the same draws; float32 means of ~140 nats, so to a few float32
    // ulps: 1e-5 relative); IWAE_K grows with K (up to Monte Carlo error); log p̂ ≥ ELBO.
    expect(Math.abs(report.elbo! - (report.reconstruction! - report.kl!))).toBeLessThan(1e-5 * Math.abs(report.elbo!));
    expect(Math.abs(report.kl!)).toBeGreaterThan(1);
    expect(report['iwae-10']!).toBeGreaterThan(report['iwae-1']! - 0.5);
    expect(report['iwae-100']!).toBeGreaterThan(report['iwae-10']! - 0.5);
    expect(report.logphat!).toBeGreaterThan(report.elbo!);
    expect(report.elbo!).toBeGreaterThan(-400);
    expect(report.elbo!).toBeLessThan(-50);
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
  }, 300_000);

  it('gives the same ELBO curve as the same run in Node on the wasm backend', async (ctx) => {
    requires(ctx, CHROMIUM_PACKAGE);
    expect(pageElbo.length, 'the explorer run above did not finish').toBeGreaterThan(0);
    await selectBackend('wasm', { quiet: true });
    const node = await runExplorer(RUN);
    node.vae.dispose();
    const nodeRate = node.steps / node.trainSeconds;
    console.log(`explorer steps/s (two-modes, gaussian, ELBO, 3 rows): page ${pageRate.toFixed(1)}, Node ${nodeRate.toFixed(1)} (both wasm, one after the other)`);
    const nodeElbo = node.history.map((h) => h.elbo[0]!);
    expect(nodeElbo).toHaveLength(pageElbo.length);
    // The same weights, noise and kernels in both: equal up to float32 rounding of a different summation order, if any.
    for (let i = 0; i < nodeElbo.length; i++) expect(pageElbo[i]).toBeCloseTo(nodeElbo[i]!, 3);
  }, 300_000);
});
