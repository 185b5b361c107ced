import type { Dataset } from './dataset.js';
import { loadIdxImages, type ImageSetOptions, type ImageSetSource } from './idx-images.js';

/** Where Debian's package `dataset-fashion-mnist` puts the gzipped IDX files. */
export const FASHION_MNIST_FOLDER = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_SOURCE: ImageSetSource = {
  name: 'fashion-mnist',
  folder: FASHION_MNIST_FOLDER,
  missingHint: (folder) =>
    `Fashion-MNIST comes from the Debian package dataset-fashion-mnist (looked in ${folder}): run \`apt-get install dataset-fashion-mnist\`, or pass { path } to a folder with train-images-idx3-ubyte(.gz) etc.`,
};

/**
 * Fashion-MNIST (Xiao et al. 2017, arXiv:1708.07747): 60,000 train / 10,000 test 28×28 images of
 * clothing, labels 0–9 (0 T-shirt/top … 9 ankle boot), from Debian's `dataset-fashion-mnist`
 * (`/usr/share/datasets/fashion-mnist`, gzipped IDX). Same options as `loadMnist`.
 */
export function loadFashionMnist(options: ImageSetOptions): Dataset {
  return loadIdxImages(FASHION_MNIST_SOURCE, options);
}
