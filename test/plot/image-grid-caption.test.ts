import { describe, expect, it } from 'vitest';
import { readPng, renderImageGrid, renderPairGrid } from '../../plugins/index.js';

describe('image grid captions', () => {
  const values = Float32Array.from({ length: 4 * 16 }, (_, i) => (i % 16) / 15); // 4 images of 4×4, a ramp
  it('puts the caption above the grid and keeps the grid pixel for pixel', () => {
    const plain = readPng(renderImageGrid(values, 16, { scale: 1 }));
    const captioned = readPng(renderImageGrid(values, 16, { scale: 1, caption: '4 samples from runs/x: means E[x|z]' }));
    expect(captioned.width).toBe(420); // widened for the caption
    expect(captioned.height).toBeGreaterThan(plain.height + 20);
    // The grid sits centred at the bottom, unchanged.
    const x0 = Math.floor((captioned.width - plain.width) / 2);
    const y0 = captioned.height - plain.height;
    let diff = 0;
    for (let y = 0; y < plain.height; y++)
      for (let x = 0; x < plain.width; x++)
        for (let c = 0; c < 3; c++) diff = Math.max(diff, Math.abs(plain.data[(y * plain.width + x) * 4 + c]! - captioned.data[((y + y0) * captioned.width + x + x0) * 4 + c]!));
    expect(diff).toBeLessThanOrEqual(1);
    // Dark caption text in the band above the grid.
    let dark = 0;
    for (let y = 0; y < y0; y++) for (let x = 0; x < captioned.width; x++) if (captioned.data[(y * captioned.width + x) * 4]! < 100) dark++;
    expect(dark).toBeGreaterThan(50);
  });
  it('captions pair grids too, and adds nothing without a caption', () => {
    const a = readPng(renderPairGrid(values, values, 16, { scale: 1 }));
    const b = readPng(renderPairGrid(values, values, 16, { scale: 1, caption: 'Rows 1–4 of the test split (left) and their reconstructions (right)' }));
    expect(b.height).toBeGreaterThan(a.height);
  });
});
