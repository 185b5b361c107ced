import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareGroups, formatParity, parityComparisons, parityGroups } from '../../bench/parity/parity-report.js';
import { fromReference, pytorchArgs, pytorchEnv } from '../../bench/parity/pytorch-side.js';
import { writeBinarizedIdx } from '../../bench/parity/test-rows.js';
import type { Init, ParityRun, ParitySettings, Side } from '../../bench/parity/types.js';
import { readIdx } from '../../src/data/idx.js';

const settings: ParitySettings = { epochs: 10, trainRows: 60000, batchSize: 100, learningRate: 1e-3, testRows: 2000, samples: 1000, elboSamples: 10 };

function run(side: Side, init: Init, seed: number, elbo: number, logLikelihood: number): ParityRun {
  return { side, init, seed, elbo, logLikelihood, trainSeconds: 100, evalSeconds: 10, cpuSeconds: 120, settings };
}

describe('parity report', () => {
  // vaekit −100, −101, −102 (mean −101, sd 1); PyTorch −99, −100, −101 (mean −100, sd 1).
  const runs = [
    run('vaekit', 'glorot', 1, -100, -95),
    run('vaekit', 'glorot', 2, -101, -96),
    run('vaekit', 'glorot', 3, -102, -97),
    run('pytorch', 'glorot', 1, -99, -94),
    run('pytorch', 'glorot', 2, -100, -95),
    run('pytorch', 'glorot', 3, -101, -96),
  ];

  it('gives each side its seed mean and sd, and the difference of means a Welch t interval', () => {
    const groups = parityGroups(runs);
    expect(groups.map((g) => `${g.side}/${g.init}`)).toEqual(['pytorch/glorot', 'vaekit/glorot']);
    expect(groups[1]!.summary.elbo.mean).toBeCloseTo(-101, 12);
    expect(groups[1]!.summary.elbo.sd).toBeCloseTo(1, 12);
    const c = compareGroups(groups[1]!, groups[0]!);
    // SE = √(1/3 + 1/3); equal variances and n give ν = 4, t₀.₉₇₅,₄ = 2.7764.
    const se = Math.sqrt(2 / 3);
    expect(c.difference.elbo.mean).toBeCloseTo(-1, 12);
    expect(c.difference.elbo.df).toBeCloseTo(4, 10);
    expect(c.difference.elbo.lower).toBeCloseTo(-1 - 2.776445 * se, 4);
    expect(c.difference.elbo.upper).toBeCloseTo(-1 + 2.776445 * se, 4);
    // Pooled sd 1 with 4 degrees of freedom.
    expect(c.seedSpread.elbo).toBeCloseTo(2.776445, 4);
    expect(c.verdict).toBe('within seed noise');
  });

  it('calls a difference systematic when an interval excludes zero', () => {
    const shifted = runs.map((r) => (r.side === 'vaekit' ? { ...r, elbo: r.elbo - 5 } : r));
    const [c] = parityComparisons(parityGroups(shifted));
    expect(c!.a).toBe('vaekit · glorot');
    expect(c!.difference.elbo.upper).toBeLessThan(0);
    expect(c!.difference.logLikelihood.containsZero).toBe(true);
    expect(c!.verdict).toBe('systematic');
  });

  it('compares the two inits on each side and says when there are too few seeds', () => {
    const more = [...runs, run('vaekit', 'pytorch', 1, -99, -94)];
    const cs = parityComparisons(parityGroups(more));
    expect(cs.map((c) => `${c.a} − ${c.b}`)).toEqual(['vaekit · glorot − pytorch · glorot', 'vaekit · pytorch − vaekit · glorot']);
    expect(cs[1]!.verdict).toBe('too few seeds');
  });

  it('refuses runs of different settings, naming both', () => {
    const odd = { ...run('pytorch', 'glorot', 4, -1, -1), settings: { ...settings, epochs: 3 } };
    expect(() => parityGroups([...runs, odd])).toThrow(/different settings: pytorch · glorot seed 4 has .*"epochs":3.*vaekit · glorot seed 1 has .*"epochs":10/);
  });

  it('writes the table with the command and signed differences', () => {
    const md = formatParity(runs, 'tsx bench/parity.ts --test-rows 2000');
    expect(md).toContain('`tsx bench/parity.ts --test-rows 2000`');
    expect(md).toContain('| vaekit · glorot | 1, 2, 3 | −101.00 ± 1.00 | −96.00 ± 1.00 | 100 | 120 |');
    expect(md).toMatch(/\| vaekit · glorot − pytorch · glorot \| −1\.00 \[−3\.27, \+1\.27\] \| 2\.78 \|/);
    expect(md).toContain('first 2,000 test rows');
  });
});

describe('parity sides', () => {
  it('writes binarised rows as an IDX3 file that reads back as 0/255 pixels', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parity-'));
    try {
      const x = Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 3 === 0 ? 1 : 0));
      writeBinarizedIdx({ x, rows: 2, dim: 784, imageShape: [28, 28] }, join(dir, 't.idx'));
      const back = readIdx(join(dir, 't.idx'));
      expect(back.dims).toEqual([2, 28, 28]);
      expect(Array.from(back.data as Uint8Array)).toEqual(Array.from(x, (v) => v * 255));
      expect(() => writeBinarizedIdx({ x: Float32Array.of(0.5), rows: 1, dim: 1 }, join(dir, 'u.idx'))).toThrow(/expected binarised rows \(0 or 1\); got 0\.5 at row 0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs the reference at the parity budget on the given rows, with PyTorch's tuned environment", () => {
    const a = pytorchArgs(settings, 'pytorch', 2, '/tmp/rows.idx');
    expect(a.join(' ')).toContain('--threads 1 train --train-rows 60000 --epochs 10 --batch-size 100 --learning-rate 0.001 --test-idx /tmp/rows.idx --binarized-test --test-rows 2000 --samples 1000 --elbo-samples 10 --seed 2 --init pytorch --per-row');
    const env = pytorchEnv({ OPENBLAS_CORETYPE: 'Haswell', PATH: '/bin' });
    expect(env.OPENBLAS_CORETYPE).toBeUndefined();
    expect(env.PATH).toBe('/bin');
    expect(Number(env.MALLOC_TRIM_THRESHOLD_)).toBeGreaterThan(1e8);
    const r = fromReference({ init: 'glorot', seed: 3, elbo: -90, logLikelihood: -85, trainSeconds: 1, evalSeconds: 2, cpuSeconds: 3 }, settings);
    expect(r).toMatchObject({ side: 'pytorch', init: 'glorot', seed: 3, elbo: -90, logLikelihood: -85, cpuSeconds: 3 });
  });
});
