/**
 * vaekit's Node-only API: data sets read from files (IDX, MNIST, Fashion-MNIST, `loadData`),
 * saved models and checkpoints on disk, charts and image grids as PNG (@resvg/resvg-js, pngjs)
 * and the CLI. The package's Node entry (`vaekit` under Node, or `vaekit/node` anywhere)
 * exports these beside the browser-safe API of ./index.ts.
 */
export { readIdx, parseIdx, writeIdx, encodeIdx, type IdxArray, type IdxData } from './data/idx.js';
export { loadMnist, mnistFolder } from './data/mnist.js';
export { loadFashionMnist, FASHION_MNIST_FOLDER } from './data/fashion-mnist.js';
export { loadIdxImages, countIdxRows, STATIC_BINARIZE_SALT, type ImageSetSource } from './data/idx-images.js';
export { MNIST_SOURCE } from './data/mnist.js';
export { FASHION_MNIST_SOURCE } from './data/fashion-mnist.js';
export type { ReadIdxOptions } from './data/idx.js';
export { loadData, LINEAR_GAUSSIAN_DEFAULTS, type LoadDataOptions, type LoadedData } from './data/load-data.js';
export { renderChart, chartSvg, svgToPng, niceTicks, wrapText, PALETTE, type ChartOptions, type ChartSeries, type ChartPoint } from './plot/chart.js';
export { renderImageGrid, renderPairGrid, imageShapeOf, readPng, type ImageGridOptions, type PairGridOptions } from './plot/image-grid.js';
export { saveVae, loadVae, loadSavedModel, writeFileAtomic, type LoadedModel, type SaveOptions, type LoadOptions } from './train/saved-model.js';
export { saveCheckpoint, loadCheckpoint, disposeState, OPTIMIZER_FILE, type CheckpointInfo, type LoadedCheckpoint } from './train/checkpoint.js';
export type { SetRecovery } from './train/saved-model.js';
export { lockDirectory, DirectoryLockedError, type DirectoryLock, type LockHolder } from './train/run-lock.js';
export { ParallelGradients, type StepGradients } from './train/parallel/parallel-gradients.js';
export { plural } from './plot/plural.js';
export { runCli } from './cli/main.js';
