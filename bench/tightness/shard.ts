/**
 * Sharding of the tightness benchmark over machines: `--shard i/n` runs the jobs of the seeds
 * whose position j in the seed list has j mod n = i (0 ≤ i < n; a seed's co-trained baseline
 * before its frozen-decoder runs, all in one shard, since they share that decoder), and writes
 * their per-seed results; `--merge` checks that every shard was run with the same settings and
 * assembles the union of their results. Every job is seeded by its seed alone, so the merged
 * values equal a single run's bit for bit (timings aside).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Combo, JobResult, Settings } from './types.js';

/** What must agree between shards for their results to form one table. */
export interface ShardKey {
  settings: Settings;
  combos: Combo[];
  baseline: string;
  /** null: no frozen-decoder table; 'baseline': each seed's co-trained baseline; else a saved model path. */
  frozen: null | 'baseline' | string;
  /** The whole run's seeds (before sharding) and the number of shards. */
  seeds: number[];
  shards: number;
  plugins: string[];
}

export interface ShardFile extends ShardKey {
  benchmark: 'tightness-shard';
  format: 1;
  shard: number;
  /** The seeds this shard ran. */
  shardSeeds: number[];
  command: string;
  backend: string;
  workers: number;
  wallSeconds: number;
  results: JobResult[];
  errors: Record<string, string>;
}

/** Parses `i/n` (0 ≤ i < n). */
export function parseShard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count)) {
    throw new Error(`--shard: expected i/n with 0 ≤ i < n (e.g. 0/4, as SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX give it); got ${JSON.stringify(v)}`);
  }
  return { index, count };
}

/** The seeds of shard `index` of `count`: every count-th seed from position index. */
export function shardSeeds(seeds: readonly number[], index: number, count: number): number[] {
  return seeds.filter((_, j) => j % count === index);
}

/** The first field (dotted path) where a and b differ, with both values; null when equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): { field: string; a: unknown; b: unknown } | null {
  if (Object.is(a, b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return { field: path || '(root)', a, b };
}

/** Shard files named by the arguments: files as given, directories' `*.shard-*.json`. */
export function shardFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      const found = readdirSync(p).filter((f) => /\.shard-\d+-of-\d+\.json$/.test(f)).sort().map((f) => join(p, f));
      if (!found.length) throw new Error(`--merge: no *.shard-<i>-of-<n>.json files in ${p}`);
      files.push(...found);
    } else files.push(p);
  }
  return files;
}

/**
 * Reads and checks shards: the same ShardKey everywhere (else an error naming the first differing
 * field and the two files), no shard index twice. Returns the key and the union of the results.
 */
export function mergeShards(files: readonly string[]): { key: ShardKey; shards: ShardFile[]; results: Map<string, JobResult>; errors: Map<string, string>; seeds: number[] } {
  if (!files.length) throw new Error('--merge: no shard files given');
  const shards = files.map((f) => {
    const s = JSON.parse(readFileSync(f, 'utf8')) as ShardFile;
    if (s.benchmark !== 'tightness-shard' || s.format !== 1) throw new Error(`--merge: ${f} is not a tightness shard file (format 1)`);
    return s;
  });
  const keyOf = (s: ShardFile): ShardKey => ({ settings: s.settings, combos: s.combos, baseline: s.baseline, frozen: s.frozen, seeds: s.seeds, shards: s.shards, plugins: s.plugins });
  const key = keyOf(shards[0]!);
  const seen = new Map<number, string>();
  shards.forEach((s, i) => {
    const d = firstDifference(key, keyOf(s));
    if (d) {
      throw new Error(`--merge: shards of different settings: ${d.field} is ${JSON.stringify(d.a)} in ${files[0]} but ${JSON.stringify(d.b)} in ${files[i]}`);
    }
    if (seen.has(s.shard)) throw new Error(`--merge: shard ${s.shard}/${s.shards} given twice (${seen.get(s.shard)} and ${files[i]})`);
    seen.set(s.shard, files[i]!);
  });
  const results = new Map<string, JobResult>();
  const errors = new Map<string, string>();
  for (const s of shards) {
    for (const r of s.results) results.set(r.id, r);
    for (const [id, m] of Object.entries(s.errors)) errors.set(id, m);
  }
  const ran = new Set(shards.flatMap((s) => s.shardSeeds));
  const seeds = key.seeds.filter((s) => ran.has(s));
  return { key, shards, results, errors, seeds };
}
