import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_FOLDER, loadFashionMnist } from '../../src/data/fashion-mnist.js';
import { writeIdx } from '../../src/data/idx.js';
import { FASHION_MNIST, fashionMnistAt, requires } from '../support/requires.js';

const dir = mkdtempSync(join(tmpdir(), 'vaekit-fashion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadFashionMnist', () => {
  it('loads the Debian gzipped IDX files: first training label 9 (ankle boot)', (ctx) => {
    requires(ctx, FASHION_MNIST);
    const train = loadFashionMnist({ split: 'train', limit: 1000, binarize: 'none' });
    expect(train.name).toBe('fashion-mnist');
    expect([train.rows, train.dim, train.x.length]).toEqual([1000, 784, 784000]);
    expect(train.imageShape).toEqual([28, 28]);
    expect(Array.from(train.labels!.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < train.x.length; i++) {
      const v = train.x[i]!;
      sum += v;
      if (!(v >= 0 && v <= 1)) outside++;
    }
    expect(outside).toBe(0);
    // Fashion-MNIST's mean intensity is 0.286 over all 60,000 images; 1,000 rows are close.
    expect(sum / train.x.length).toBeGreaterThan(0.27);
    expect(sum / train.x.length).toBeLessThan(0.3);
  });

  it('loads the 10,000-row test split', (ctx) => {
    requires(ctx, FASHION_MNIST);
    const test = loadFashionMnist({ split: 'test', binarize: 'none' });
    expect([test.rows, test.dim]).toEqual([10000, 784]);
    expect(Array.from(test.labels!.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
  });

  it('says which Debian package to install, and where it looked, when the folder is missing', () => {
    const missing = join(dir, 'nothing-here');
    let message = '';
    try {
      loadFashionMnist({ split: 'train', path: missing });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`${join(missing, 'train-labels-idx1-ubyte')}: missing;`);
    expect(message).toContain('apt-get install dataset-fashion-mnist');
    expect(message).toContain(`looked in ${missing}`);
    expect(FASHION_MNIST_FOLDER).toBe('/usr/share/datasets/fashion-mnist');
  });

  it('skips the tests that need the Debian package, naming it, when its folder lacks a file; runs them when all four are there', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(fashionMnistAt(empty).missing()).toBe(
      `needs the Debian package dataset-fashion-mnist (Fashion-MNIST; ${join(empty, 'train-images-idx3-ubyte')}(.gz) is missing): apt-get install dataset-fashion-mnist`,
    );
    const some = join(dir, 'some');
    mkdirSync(some, { recursive: true });
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte']) writeFileSync(join(some, f), '');
    expect(fashionMnistAt(some).missing()).toContain(`${join(some, 't10k-labels-idx1-ubyte')}(.gz) is missing`);
    writeFileSync(join(some, 't10k-labels-idx1-ubyte.gz'), '');
    expect(fashionMnistAt(some).missing()).toBeNull();
  });

  it('reads any folder of MNIST-format files, raw or gzipped (the shared loader)', () => {
    const own = join(dir, 'own');
    rmSync(own, { recursive: true, force: true });
    mkdirSync(own);
    const images = new Uint8Array(3 * 2 * 2);
    images.set([0, 255, 51, 102], 4); // row 1
    writeIdx(join(own, 'train-images-idx3-ubyte'), { dims: [3, 2, 2], data: images });
    writeIdx(join(own, 'train-labels-idx1-ubyte.gz'), { dims: [3], data: Uint8Array.from([4, 8, 2]) }, { gzip: true });
    const d = loadFashionMnist({ split: 'train', path: own, binarize: 'none', offset: 1, limit: 2 });
    expect([d.rows, d.dim]).toEqual([2, 4]);
    expect(d.imageShape).toEqual([2, 2]);
    expect(Array.from(d.labels!)).toEqual([8, 2]);
    expect(Array.from(d.x.subarray(0, 4))).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    writeIdx(join(own, 'train-images-idx3-ubyte'), { dims: [2, 2, 2], data: new Uint8Array(8) });
    expect(() => loadFashionMnist({ split: 'train', path: own })).toThrow(/rows \[0, 3\) are not within the 2 rows of the file/);
  });
});
