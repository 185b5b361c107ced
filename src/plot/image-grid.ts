import { PNG } from 'pngjs';
import { checkPositiveInt } from '../core/checks.js';
import { escapeXml, svgToPng, wrapText } from './chart.js';

export interface ImageGridOptions {
  /** Height and width of one image; rows of `images` are `h·w` values, row-major. Default: square (√P). */
  imageShape?: readonly [number, number];
  /** Images per grid row (default ⌈√n⌉). */
  cols?: number;
  /** Each value becomes a `scale × scale` block of pixels (default 2). */
  scale?: number;
  /** Pixels between images (default 2), and around the grid. */
  pad?: number;
  /**
   * Text above the grid saying what it shows (which model, which rows, which quantity); wrapped
   * to the picture's width (widened to 420 pixels for it when the grid is narrower). None by default.
   */
  caption?: string;
}

export interface PairGridOptions extends ImageGridOptions {
  /** Pairs (input, reconstruction) per grid row (default ⌈√n / 2⌉, at least 1). */
  pairsPerRow?: number;
}

/** [h, w] of a row of width P: the given shape (checked) or the square root of P. */
export function imageShapeOf(dim: number, shape?: readonly [number, number]): [number, number] {
  if (shape) {
    if (shape[0] * shape[1] !== dim) {
      throw new Error(`imageShape: [${shape.join(', ')}] holds ${shape[0] * shape[1]} pixels; rows have ${dim} values`);
    }
    return [shape[0], shape[1]];
  }
  const s = Math.round(Math.sqrt(dim));
  if (s * s !== dim) {
    throw new Error(`pictures: rows of width ${dim} are not square images; pass imageShape [h, w] with h·w = ${dim}`);
  }
  return [s, s];
}

function checkRows(values: ArrayLike<number>, dim: number, what: string): number {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`${what}: expected a positive row width; got ${dim}`);
  if (values.length === 0 || values.length % dim !== 0) {
    throw new Error(`${what}: expected a whole number (≥ 1) of rows of width ${dim}; got ${values.length} values`);
  }
  return values.length / dim;
}

/** Grey level 0–255 of an intensity (clamped to [0, 1]; NaN shows as red in `paint`). */
const grey = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));

/**
 * Paints image `index` of `values` (rows of h·w intensities in [0, 1], black background and
 * white ink as MNIST is drawn) at pixel (x0, y0) of `png`, each value a scale×scale block.
 * Non-finite values are painted red, so they are seen rather than hidden.
 */
function paint(png: PNG, values: ArrayLike<number>, index: number, [h, w]: [number, number], x0: number, y0: number, scale: number): void {
  const base = index * h * w;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const v = values[base + r * w + c]!;
      const finite = Number.isFinite(v);
      const g = finite ? grey(v) : 0;
      for (let dy = 0; dy < scale; dy++) {
        let o = ((y0 + r * scale + dy) * png.width + x0 + c * scale) * 4;
        for (let dx = 0; dx < scale; dx++, o += 4) {
          png.data[o] = finite ? g : 255;
          png.data[o + 1] = g;
          png.data[o + 2] = g;
          png.data[o + 3] = 255;
        }
      }
    }
  }
}

function canvas(width: number, height: number, background: [number, number, number]): PNG {
  const png = new PNG({ width, height });
  for (let o = 0; o < png.data.length; o += 4) {
    png.data[o] = background[0];
    png.data[o + 1] = background[1];
    png.data[o + 2] = background[2];
    png.data[o + 3] = 255;
  }
  return png;
}

/**
 * A grid of images as PNG bytes: `values` holds n rows of P = h·w intensities in [0, 1]
 * (row-major), drawn white on black, `cols` per grid row, separated by a mid-grey gap.
 */
export function renderImageGrid(values: ArrayLike<number>, dim: number, options: ImageGridOptions = {}): Buffer {
  const n = checkRows(values, dim, 'renderImageGrid');
  const [h, w] = imageShapeOf(dim, options.imageShape);
  const cols = Math.min(n, checkPositiveInt('cols', options.cols ?? Math.ceil(Math.sqrt(n))));
  const scale = checkPositiveInt('scale', options.scale ?? 2);
  const pad = options.pad ?? 2;
  const rows = Math.ceil(n / cols);
  const png = canvas(pad + cols * (w * scale + pad), pad + rows * (h * scale + pad), [128, 128, 128]);
  for (let i = 0; i < n; i++) {
    paint(png, values, i, [h, w], pad + (i % cols) * (w * scale + pad), pad + Math.floor(i / cols) * (h * scale + pad), scale);
  }
  return withCaption(png, options.caption);
}

/**
 * The grid under its caption: an SVG holding the caption's lines and the grid (embedded as PNG,
 * drawn pixel for pixel), rasterised with resvg. Without a caption, the grid's PNG as it is.
 */
function withCaption(grid: PNG, caption: string | undefined): Buffer {
  const bytes = PNG.sync.write(grid);
  if (!caption) return bytes;
  const width = Math.max(grid.width, 420);
  const lines = caption.split('\n').flatMap((l) => wrapText(l, Math.floor((width - 16) / 7)));
  const head = 10 + lines.length * 16;
  const x0 = Math.floor((width - grid.width) / 2);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${head + grid.height}" font-family="DejaVu Sans, sans-serif">`,
    ...lines.map((l, i) => `<text x="8" y="${18 + i * 16}" font-size="12" fill="#222">${escapeXml(l)}</text>`),
    `<image x="${x0}" y="${head}" width="${grid.width}" height="${grid.height}" image-rendering="optimizeSpeed" xlink:href="data:image/png;base64,${bytes.toString('base64')}"/>`,
    '</svg>',
  ].join('\n');
  return svgToPng(svg);
}

/**
 * Inputs beside their reconstructions as PNG bytes: each pair is the input then its
 * reconstruction, touching, framed by a wider gap; a thin orange bar above each
 * reconstruction tells the two apart.
 */
export function renderPairGrid(inputs: ArrayLike<number>, reconstructions: ArrayLike<number>, dim: number, options: PairGridOptions = {}): Buffer {
  const n = checkRows(inputs, dim, 'renderPairGrid inputs');
  const m = checkRows(reconstructions, dim, 'renderPairGrid reconstructions');
  if (n !== m) throw new Error(`renderPairGrid: ${n} inputs but ${m} reconstructions; expected the same number`);
  const [h, w] = imageShapeOf(dim, options.imageShape);
  const perRow = Math.min(n, checkPositiveInt('pairsPerRow', options.pairsPerRow ?? Math.max(1, Math.ceil(Math.sqrt(n) / 2) * 2)));
  const scale = checkPositiveInt('scale', options.scale ?? 2);
  const pad = options.pad ?? 2;
  const gap = pad * 4;
  const mark = 3;
  const cellW = 2 * w * scale + pad;
  const cellH = h * scale + mark;
  const rows = Math.ceil(n / perRow);
  const png = canvas(gap + perRow * (cellW + gap), gap + rows * (cellH + gap), [255, 255, 255]);
  for (let i = 0; i < n; i++) {
    const x0 = gap + (i % perRow) * (cellW + gap);
    const y0 = gap + Math.floor(i / perRow) * (cellH + gap);
    // The orange bar over the reconstruction.
    for (let y = y0; y < y0 + mark - 1; y++) {
      for (let x = x0 + w * scale + pad; x < x0 + cellW; x++) {
        const o = (y * png.width + x) * 4;
        png.data[o] = 242;
        png.data[o + 1] = 142;
        png.data[o + 2] = 43;
      }
    }
    paint(png, inputs, i, [h, w], x0, y0 + mark, scale);
    paint(png, reconstructions, i, [h, w], x0 + w * scale + pad, y0 + mark, scale);
  }
  return withCaption(png, options.caption);
}

/** Decodes PNG bytes (for tests and tools): width, height and RGBA pixels. */
export function readPng(bytes: Buffer): { width: number; height: number; data: Buffer } {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, data: png.data };
}
