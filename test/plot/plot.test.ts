import { describe, expect, it } from 'vitest';
import { chartSvg, niceTicks, renderChart } from '../../src/plot/chart.js';
import { readPng, renderImageGrid, renderPairGrid } from '../../src/plot/image-grid.js';
import { DEJAVU_FONTS, requires } from '../support/requires.js';

/** Pixels of a PNG whose RGB is within `tol` of `hex`. */
function countColour(png: { data: Buffer }, hex: string, tol = 10): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let o = 0; o < png.data.length; o += 4) {
    if (Math.abs(png.data[o]! - r!) <= tol && Math.abs(png.data[o + 1]! - g!) <= tol && Math.abs(png.data[o + 2]! - b!) <= tol) n++;
  }
  return n;
}

describe('renderChart', () => {
  const series = [
    { name: 'train', points: [[1, -160], [2, -130], [3, -118]] as [number, number][] },
    { name: 'valid', points: [[1, -150], [2, -128], [3, -119]] as [number, number][] },
  ];

  it('draws an 800 × 500 PNG with each series in its palette colour', () => {
    const png = readPng(renderChart({ title: 'Bound', xLabel: 'epoch', yLabel: 'nats', series }));
    expect([png.width, png.height]).toEqual([800, 500]);
    expect(countColour(png, '#4e79a7')).toBeGreaterThan(300);
    expect(countColour(png, '#f28e2b')).toBeGreaterThan(300);
  });

  it('renders its text in DejaVu Sans: black glyph pixels for the title, ticks and labels', (ctx) => {
    requires(ctx, DEJAVU_FONTS);
    const png = readPng(renderChart({ title: 'Bound', xLabel: 'epoch', yLabel: 'nats', series }));
    expect(countColour(png, '#000000', 30)).toBeGreaterThan(500);
  });

  it('places integer x ticks only, and y ticks covering the data', () => {
    const svg = chartSvg({ title: 't', xLabel: 'epoch', yLabel: 'nats', series });
    expect(svg).toContain('>1</text>');
    expect(svg).not.toContain('>1.5</text>');
    expect(svg).toContain('>−160</text>');
  });

  it('draws bars from zero with error bars and categories in order', () => {
    const svg = chartSvg({
      title: 't',
      xLabel: 'encoder',
      yLabel: 'nats',
      kind: 'bars',
      series: [{ name: 'ELBO', points: [['gaussian', -98, 0.5], ['planar', -96, 0.5]] }],
    });
    expect(svg.indexOf('>gaussian<')).toBeLessThan(svg.indexOf('>planar<'));
    expect((svg.match(/<rect x=/g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(svg).toContain('>0</text>');
  });

  it('escapes text and rejects empty or non-positive log data', () => {
    expect(chartSvg({ title: 'a < b & c', xLabel: 'x', yLabel: 'y', series })).toContain('a &lt; b &amp; c');
    expect(() => renderChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })).toThrow(/at least one series/);
    expect(() => renderChart({ title: 't', xLabel: 'x', yLabel: 'y', xScale: 'log', series: [{ name: 's', points: [[0, 1]] }] })).toThrow(
      /log x axis needs x > 0; got 0/,
    );
  });

  it('chooses nice ticks', () => {
    expect(niceTicks(-163, -108)).toMatchObject({ lo: -170, hi: -100, step: 10 });
    expect(niceTicks(0, 1).step).toBeCloseTo(0.2, 12);
  });
});

describe('image grids', () => {
  it('paints each value as a scale × scale grey block, white on black', () => {
    // Two 2×2 images: [0, 1, 0.5, 0] and [1, 1, 1, 1]; scale 3, pad 1, 2 columns.
    const png = readPng(renderImageGrid(new Float32Array([0, 1, 0.5, 0, 1, 1, 1, 1]), 4, { scale: 3, pad: 1, cols: 2 }));
    expect([png.width, png.height]).toEqual([1 + 2 * (6 + 1), 1 + 6 + 1]);
    const at = (x: number, y: number) => png.data[(y * png.width + x) * 4]!;
    expect(at(1, 1)).toBe(0); // image 0, value 0
    expect(at(4, 1)).toBe(255); // image 0, value 1
    expect(at(2, 4)).toBe(128); // image 0, value 0.5
    expect(at(8, 3)).toBe(255); // image 1
    expect(at(0, 0)).toBe(128); // the grey frame
  });

  it('clamps values outside [0, 1] and shows non-finite values in red', () => {
    const png = readPng(renderImageGrid(new Float32Array([-3, 7, Number.NaN, 0.25]), 4, { scale: 1, pad: 0 }));
    const px = (i: number) => Array.from(png.data.subarray(i * 4, i * 4 + 3));
    expect(px(0)).toEqual([0, 0, 0]);
    expect(px(1)).toEqual([255, 255, 255]);
    expect(px(2)).toEqual([255, 0, 0]);
    expect(px(3)).toEqual([64, 64, 64]);
  });

  it('puts each input beside its reconstruction', () => {
    const inputs = new Float32Array(4 * 4).fill(1);
    const recons = new Float32Array(4 * 4).fill(0);
    const png = readPng(renderPairGrid(inputs, recons, 4, { scale: 1, pad: 1, pairsPerRow: 2 }));
    // Cell: 2·2 + 1 = 5 wide, mark 3 + 2 high; gap 4.
    expect([png.width, png.height]).toEqual([4 + 2 * (5 + 4), 4 + 2 * (5 + 4)]);
    const at = (x: number, y: number) => png.data[(y * png.width + x) * 4]!;
    expect(at(4, 7)).toBe(255); // input pixel of pair 0
    expect(at(7, 7)).toBe(0); // reconstruction pixel of pair 0
  });

  it('names the problem when rows are not images', () => {
    expect(() => renderImageGrid(new Float32Array(10), 5)).toThrow(/width 5 are not square images/);
    expect(() => renderImageGrid(new Float32Array(10), 4)).toThrow(/whole number .* rows of width 4; got 10 values/);
    expect(() => renderPairGrid(new Float32Array(8), new Float32Array(4), 4)).toThrow(/2 inputs but 1 reconstructions/);
  });
});
