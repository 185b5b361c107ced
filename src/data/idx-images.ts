import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from '../core/random.js';
import type { Dataset } from './dataset.js';
import { readIdx } from './idx.js';

export type Split = 'train' | 'test';
export type Binarize = Dataset['binarize'];

/** Options shared by the image-set loaders (`loadMnist`, `loadFashionMnist`). */
export interface ImageSetOptions {
  split: Split;
  /** Keep only this many rows (after `offset`); all rows when left out. */
  limit?: number;
  /** Skip this many rows first (rows `offset … offset + limit − 1` are kept). Default 0. */
  offset?: number;
  /**
   * `dynamic` (default): intensities kept, a fresh Bernoulli draw per batch (see `batches`);
   * `static`: one Bernoulli(intensity) draw per pixel now, seeded (see `seed`);
   * `none`: intensities in [0, 1].
   */
  binarize?: Binarize;
  /**
   * Seed of the static binarisation. The draw uses `new Random(seed).fork(1)` for the train
   * split and `new Random(seed).fork(2)` for the test split (so the two splits get different
   * draws from one seed), one uniform per pixel in file order from the first row of the file:
   * a row's draw does not depend on `limit` or `offset`. Default 0.
   */
  seed?: number;
  /** Folder holding the IDX files, instead of the default one. */
  path?: string;
}

/** Where an image set's IDX files live and what to say when they are missing. */
export interface ImageSetSource {
  /** Dataset name (`mnist`, `fashion-mnist`). */
  name: string;
  /** Default folder, or a function that finds it (throwing a clear error when it cannot). */
  folder: string | (() => string);
  /** What to tell the user when a file is missing (which package to install), given the folder looked at. */
  missingHint(folder: string): string;
}

const FILES: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/** Salt of the static binarisation stream per split (see `ImageSetOptions.seed`). */
export const STATIC_BINARIZE_SALT: Record<Split, number> = { train: 1, test: 2 };

/** The file `base` in `folder`, raw or with `.gz` (the first that exists; the raw name if neither). */
function findFile(folder: string, base: string): string {
  for (const name of [base, `${base}.gz`]) {
    const p = join(folder, name);
    if (existsSync(p)) return p;
  }
  return join(folder, base);
}

function checkCount(field: string, v: number | undefined, allowZero: boolean): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    throw new Error(`${field}: expected a ${allowZero ? 'non-negative' : 'positive'} integer; got ${v}`);
  }
}

function resolveFiles(source: ImageSetSource, split: Split, path: string | undefined) {
  const folder = path ?? (typeof source.folder === 'string' ? source.folder : source.folder());
  return {
    folder,
    imagesPath: findFile(folder, FILES[split].images),
    labelsPath: findFile(folder, FILES[split].labels),
    // A folder the user named that exists: say which files it needs, not which package provides the default one.
    missingHint:
      path !== undefined && existsSync(path)
        ? `expected the ${source.name} ${split} files ${FILES[split].images} and ${FILES[split].labels} (raw or .gz) in ${path}`
        : source.missingHint(folder),
  };
}

/** The number of rows of a split (read from its small labels file). */
export function countIdxRows(source: ImageSetSource, split: Split, path?: string): number {
  const { labelsPath, missingHint } = resolveFiles(source, split, path);
  return readIdx(labelsPath, { missingHint }).dims[0] ?? 0;
}

/**
 * Loads one split of an MNIST-format image set (IDX: images `[N, H, W]` uint8, labels `[N]`
 * uint8) as a Dataset with intensities scaled to [0, 1] (pixel/255), or binarised once when
 * `binarize: 'static'`. Shared by MNIST and Fashion-MNIST; files may be raw or gzipped.
 */
export function loadIdxImages(source: ImageSetSource, options: ImageSetOptions): Dataset {
  const { split, limit, offset = 0, binarize = 'dynamic', seed = 0 } = options;
  if (split !== 'train' && split !== 'test') {
    throw new Error(`split: expected 'train' or 'test'; got ${JSON.stringify(split)}`);
  }
  if (!['dynamic', 'static', 'none'].includes(binarize)) {
    throw new Error(`binarize: expected 'dynamic', 'static' or 'none'; got ${JSON.stringify(binarize)}`);
  }
  checkCount('limit', limit, false);
  checkCount('offset', offset, true);
  checkCount('seed', seed, true);

  const { imagesPath, labelsPath, missingHint } = resolveFiles(source, split, options.path);
  const labels = readIdx(labelsPath, { missingHint });
  if (labels.dims.length !== 1 || !(labels.data instanceof Uint8Array)) {
    throw new Error(`${labelsPath}: expected uint8 labels [N]; got ${labels.data.constructor.name} with dims [${labels.dims.join(', ')}]`);
  }
  const total = labels.dims[0]!;
  if (offset > total) {
    throw new Error(`offset: expected at most ${total} (rows in the ${source.name} ${split} split); got ${offset}`);
  }
  const rows = limit === undefined ? total - offset : limit;
  if (offset + rows > total) {
    throw new Error(
      `limit: the ${source.name} ${split} split has ${total} rows${offset ? ` (${total - offset} after offset ${offset})` : ''}; got ${limit}`,
    );
  }
  // Only the rows asked for are read from a raw file (a gzipped one is decompressed whole).
  const images = readIdx(imagesPath, { missingHint, rows: [offset, offset + rows] });
  if (images.dims.length !== 3 || !(images.data instanceof Uint8Array)) {
    throw new Error(`${imagesPath}: expected uint8 images [N, H, W]; got ${images.data.constructor.name} with dims [${images.dims.join(', ')}]`);
  }
  if (images.rowsInFile !== total) {
    throw new Error(`${labelsPath}: ${total} labels for ${images.rowsInFile} images in ${imagesPath}`);
  }
  const [, h, w] = images.dims as [number, number, number];
  const dim = h * w;
  const pixels = images.data;
  const x = new Float32Array(rows * dim);
  // Intensity of each byte value, v/255, computed once (in float64 for the static comparison).
  const intensity = new Float64Array(256);
  for (let v = 0; v < 256; v++) intensity[v] = v / 255;
  if (binarize === 'static') {
    const random = new Random(seed).fork(STATIC_BINARIZE_SALT[split]);
    // Advance past the rows before `offset`, so a row's draw does not depend on the window.
    for (let i = 0; i < offset * dim; i++) random.uniform();
    for (let i = 0; i < x.length; i++) x[i] = random.uniform() < intensity[pixels[i]!]! ? 1 : 0;
  } else {
    for (let i = 0; i < x.length; i++) x[i] = intensity[pixels[i]!]!;
  }
  return {
    name: source.name,
    x,
    rows,
    dim,
    labels: labels.data.slice(offset, offset + rows),
    imageShape: [h, w],
    binarize,
  };
}
