import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, type TestContext } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { FASHION_MNIST_FOLDER } from '../../src/data/fashion-mnist.js';

/**
 * Something a test needs that `npm ci` does not provide (a Debian package) or that only some runs
 * have (a backend). `missing()` is null when it is there, else the reason the test skips — shown
 * after the run by test/support/skip-reporter.ts.
 */
export interface Requirement {
  missing(): string | null;
}

/** A Debian package, present when every one of `paths` exists. */
export function debianPackage(pkg: string, what: string, paths: readonly string[]): Requirement {
  return {
    missing() {
      const absent = paths.find((p) => !existsSync(p));
      return absent === undefined ? null : `needs the Debian package ${pkg} (${what}; ${absent} is missing): apt-get install ${pkg}`;
    },
  };
}

/** The four Fashion-MNIST IDX files in `folder`, each raw or gzipped, as Debian's dataset-fashion-mnist installs them. */
export function fashionMnistAt(folder: string): Requirement {
  const files = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].map((f) => join(folder, f));
  return {
    missing() {
      const absent = files.find((f) => !existsSync(f) && !existsSync(`${f}.gz`));
      return absent === undefined ? null : `needs the Debian package dataset-fashion-mnist (Fashion-MNIST; ${absent}(.gz) is missing): apt-get install dataset-fashion-mnist`;
    },
  };
}

export const FASHION_MNIST = fashionMnistAt(FASHION_MNIST_FOLDER);

/** DejaVu Sans, the font the PNG charts set their text in. */
export const DEJAVU_FONTS = debianPackage('fonts-dejavu-core', 'DejaVu Sans for the charts\' text', [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
]);

/** A backend on which vaekit's host kernels (WebAssembly through `HostWasm`) run: wasm, or cpu through a copy. */
export const HOST_KERNEL_BACKEND: Requirement = {
  missing() {
    const b = tf.getBackend();
    return b === 'wasm' || b === 'cpu' ? null : `asserts vaekit's host kernels, which run on wasm and cpu; this run is on ${b}`;
  },
};

/**
 * Tests of the package and of the browser pages — npm pack or a path install into a consumer
 * project, pages in Chromium — use no Node backend of this run (they select wasm themselves), so
 * a CI that runs the suite once per backend runs them once: under
 * `VAEKIT_BACKEND_INDEPENDENT=skip` (`.ci/run`'s tensorflow run) they skip, saying so.
 */
export const BACKEND_INDEPENDENT_RUN: Requirement = {
  missing() {
    return process.env.VAEKIT_BACKEND_INDEPENDENT === 'skip'
      ? 'tests the package or a browser page, which do not use this run\'s Node backend; it runs once per CI, in the wasm run (VAEKIT_BACKEND_INDEPENDENT=skip here)'
      : null;
  },
};

/** Calls `requires(ctx, …requirements)` before every test of the enclosing describe block (or file). */
export function requiresForEach(...requirements: Requirement[]): void {
  beforeEach((ctx) => requires(ctx, ...requirements));
}

/** Skips the running test, with the first missing requirement's reason, unless all are met. */
export function requires(ctx: TestContext, ...requirements: Requirement[]): void {
  for (const r of requirements) {
    const why = r.missing();
    if (why !== null) ctx.skip(why);
  }
}
