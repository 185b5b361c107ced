import { Random } from '../../plugins/index.js';
import type { Dataset } from '../../src/data/dataset.js';

/** Binary rows from four noisy prototypes (5 % of bits flipped): a set a VAE can learn fast. */
export function prototypes(rows: number, dim: number, seed: number): Dataset {
  const random = new Random(seed);
  const protos = Array.from({ length: 4 }, () => Array.from({ length: dim }, () => (random.uniform() < 0.5 ? 1 : 0)));
  const x = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const p = protos[r % 4]!;
    for (let j = 0; j < dim; j++) x[r * dim + j] = random.uniform() < 0.05 ? 1 - p[j]! : p[j]!;
  }
  return { name: 'prototypes', x, rows, dim, binarize: 'none' };
}
