import { writeFileSync, renameSync } from 'node:fs';
import type { Dataset } from '../../src/data/dataset.js';

/**
 * Writes binarised rows (values 0 or 1) as an IDX3 ubyte image file (magic 2051, pixels 0 or
 * 255), so another program (the PyTorch reference's `--binarized-test`) reads the very rows
 * vaekit evaluates on. Atomic: a temp file, then rename.
 */
export function writeBinarizedIdx(data: Pick<Dataset, 'x' | 'rows' | 'dim' | 'imageShape'>, path: string): void {
  const [h, w] = data.imageShape ?? [1, data.dim];
  if (h * w !== data.dim) throw new Error(`writeBinarizedIdx: image shape [${h}, ${w}] does not hold ${data.dim} values per row`);
  const head = Buffer.alloc(16);
  head.writeUInt32BE(2051, 0);
  head.writeUInt32BE(data.rows, 4);
  head.writeUInt32BE(h, 8);
  head.writeUInt32BE(w, 12);
  const body = Buffer.alloc(data.rows * data.dim);
  for (let i = 0; i < body.length; i++) {
    const v = data.x[i]!;
    if (v !== 0 && v !== 1) throw new Error(`writeBinarizedIdx: expected binarised rows (0 or 1); got ${v} at row ${Math.floor(i / data.dim)}`);
    body[i] = v * 255;
  }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([head, body]));
  renameSync(tmp, path);
}
