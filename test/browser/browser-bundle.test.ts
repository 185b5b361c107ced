import { builtinModules } from 'node:module';
import { runInNewContext } from 'node:vm';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The browser-safe entry (plugins/browser.ts, `vaekit` for a browser bundler) bundles with
 * esbuild for the browser platform — where a Node builtin cannot be resolved and fails the
 * build — and the bundle neither imports a builtin nor touches Node's globals when it loads.
 */
const ENTRY = 'plugins/browser.ts';
const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

async function bundle(format: 'esm' | 'iife'): Promise<{ code: string; metafile: Metafile }> {
  const r = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'browser',
    format,
    globalName: format === 'iife' ? 'vaekit' : undefined,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: r.outputFiles[0]!.text, metafile: r.metafile };
}

describe('browser bundle of the vaekit entry', () => {
  let esm: { code: string; metafile: Metafile };
  beforeAll(async () => {
    esm = await bundle('esm');
  }, 120_000);

  it('builds for the browser platform and leaves no Node builtin import behind', () => {
    const imported = Object.values(esm.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect(imported.filter((p) => BUILTINS.has(p))).toEqual([]);
    // No static or dynamic ES import of a builtin with a literal specifier. (CommonJS requires of a
    // builtin fail the build above unless the package maps them away in its "browser" field; the
    // text of tfjs-wasm's worker script names some inside a string, for Node only.)
    const literal = /(?:\bfrom\s*|\bimport\(\s*)["'](node:[\w/]+|[\w/]+)["']/g;
    const builtinRefs = [...esm.code.matchAll(literal)].map((m) => m[1]!).filter((s) => BUILTINS.has(s));
    expect(builtinRefs).toEqual([]);
  });

  it('bundles none of the Node-only modules (file data, saving, PNG, CLI, worker threads)', () => {
    // "(disabled):…" inputs are modules a "browser" field maps to nothing (cli-progress, by vaekit's).
    const inputs = Object.keys(esm.metafile.inputs).filter((p) => !p.startsWith('(disabled):'));
    const nodeOnly = inputs.filter((p) =>
      /^src\/(cli\/|plot\/|data\/(idx|idx-images|mnist|fashion-mnist|load-data)\.ts|train\/(saved-model|checkpoint|file-set|run-lock|output-path)\.ts|eval\/eval-worker)/.test(p),
    );
    expect(nodeOnly).toEqual([]);
    expect(inputs.some((p) => p.includes('@resvg/') || p.includes('node_modules/pngjs/') || p.includes('node_modules/cli-progress/'))).toBe(false);
    // …while the model, the plugins, the trainer, the wasm kernels, the URL loader and the quadrature models are in.
    for (const p of ['src/core/vae.ts', 'src/train/trainer.ts', 'src/nn/gemm.ts', 'src/nn/adam.ts', 'plugins/planar-flow/planar-kernel.ts', 'src/eval/bound-report.ts', 'src/train/load-vae-from-url.ts', 'src/data/quadrature-model.ts']) {
      expect(inputs).toContain(p);
    }
  });

  it('loads in a context with only browser globals (no process, Buffer or require) and builds a model', async () => {
    const { code } = await bundle('iife');
    const context: Record<string, unknown> = {
      atob,
      console,
      WebAssembly: (globalThis as Record<string, unknown>).WebAssembly,
      TextEncoder,
      TextDecoder,
      URL,
      setTimeout,
      clearTimeout,
      queueMicrotask,
      performance,
      Symbol,
      Reflect,
    };
    // tfjs picks its browser platform where `window.document` exists.
    context.globalThis = context;
    context.self = context;
    context.window = context;
    context.document = {};
    runInNewContext(code, context, { filename: 'vaekit-browser.js' });
    const lib = context.vaekit as typeof import('../../plugins/browser.js');
    expect(typeof lib.createVae).toBe('function');
    expect(Object.keys(lib)).not.toContain('saveVae');
    expect(Object.keys(lib)).not.toContain('runCli');
    // The three embedded wasm modules were decoded at load (with atob): a planar model builds.
    await lib.tf.setBackend('cpu');
    const vae = lib.createVae({
      latentDim: 2,
      dataDim: 5,
      encoder: { type: 'planar', hidden: [4], steps: 2 },
      likelihood: { type: 'gaussian', hidden: [4] },
    }, { seed: 1 });
    const elbo = vae.elbo(lib.tf.ones([3, 5]), { samples: 2 }).elbo;
    const values = Array.from(await elbo.data());
    expect(values).toHaveLength(3);
    expect(values.every(Number.isFinite)).toBe(true);
  }, 120_000);
});
