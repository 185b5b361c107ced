import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstDifference, mergeShards, parseShard, shardSeeds } from '../../bench/tightness/shard.js';

/** Timings differ run to run; everything else must be bit-identical. */
const TIMING = new Set(['secondsPerEpoch', 'trainSeconds', 'evalSeconds', 'wallSeconds', 'createdAt', 'command', 'workers']);
function stripTimings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripTimings);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !TIMING.has(k))
        .map(([k, x]) => [k, stripTimings(x)]),
    );
  }
  return v;
}

describe('tightness shards', () => {
  it('parses i/n and deals seeds round-robin', () => {
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    expect(() => parseShard('3/3')).toThrow(/--shard: expected i\/n with 0 ≤ i < n.*got "3\/3"/);
    expect(() => parseShard('x')).toThrow(/got "x"/);
    expect(shardSeeds([1, 2, 3, 4, 5], 1, 2)).toEqual([2, 4]);
    expect(shardSeeds([1, 2, 3, 4, 5], 0, 2)).toEqual([1, 3, 5]);
    expect(firstDifference({ a: { b: [1, 2] } }, { a: { b: [1, 3] } })).toEqual({ field: 'a.b[1]', a: 2, b: 3 });
    expect(firstDifference({ a: 1 }, { a: 1 })).toBeNull();
  });

  it('refuses shards of different settings, naming the field, and a shard given twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tightness-shard-'));
    try {
      const shard = (index: number, epochs: number) => ({
        benchmark: 'tightness-shard', format: 1, settings: { epochs, trainRows: 10 }, combos: [], baseline: 'gaussian', frozen: 'baseline',
        seeds: [1, 2], shards: 2, plugins: [], shard: index, shardSeeds: [index + 1], command: 'x', backend: 'wasm', workers: 1, wallSeconds: 1, results: [], errors: {},
      });
      const a = join(dir, 'a.json');
      const b = join(dir, 'b.json');
      writeFileSync(a, JSON.stringify(shard(0, 1)));
      writeFileSync(b, JSON.stringify(shard(1, 2)));
      expect(() => mergeShards([a, b])).toThrow(/shards of different settings: settings\.epochs is 1 in .*a\.json but 2 in .*b\.json/);
      writeFileSync(b, JSON.stringify(shard(0, 1)));
      expect(() => mergeShards([a, b])).toThrow(/shard 0\/2 given twice/);
      writeFileSync(b, JSON.stringify(shard(1, 1)));
      expect(mergeShards([a, b]).seeds).toEqual([1, 2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shard 0/2 + shard 1/2 merged equals one run bit for bit (timings aside)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tightness-shard-'));
    const tiny = [
      '--import', 'tsx', 'bench/tightness.ts', '--quick',
      '--encoders', 'gaussian,planar', '--train-rows', '100', '--epochs', '1', '--test-rows', '8',
      '--iwae-samples', '2', '--samples', '4', '--elbo-samples', '1', '--amort-rows', '2', '--amort-steps', '1', '--seeds', '3',
    ];
    const run = (extra: string[]) => {
      const r = spawnSync(process.execPath, [...tiny, ...extra], { encoding: 'utf8', env: { ...process.env, VAEKIT_QUIET: '1' }, timeout: 400_000 });
      expect(r.stderr + r.stdout).not.toMatch(/FAILED/);
      expect(r.status, r.stderr).toBe(0);
    };
    try {
      run(['--workers', '2', '--out', join(dir, 'one')]);
      run(['--workers', '1', '--shard', '0/2', '--out', join(dir, 'shards')]);
      run(['--workers', '1', '--shard', '1/2', '--out', join(dir, 'shards')]);
      const m = spawnSync(process.execPath, ['--import', 'tsx', 'bench/tightness.ts', '--merge', join(dir, 'shards'), '--out', join(dir, 'merged')], { encoding: 'utf8', timeout: 120_000 });
      expect(m.status, m.stderr).toBe(0);
      const one = JSON.parse(readFileSync(join(dir, 'one', 'tightness.json'), 'utf8'));
      const merged = JSON.parse(readFileSync(join(dir, 'merged', 'tightness.json'), 'utf8'));
      expect(merged.seeds).toEqual([1, 2, 3]);
      expect(stripTimings(merged)).toEqual(stripTimings(one));
      expect(merged.tables[1].differences.planar.gap.mean).toBe(one.tables[1].differences.planar.gap.mean);
      expect(readFileSync(join(dir, 'merged', 'tightness.png')).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
