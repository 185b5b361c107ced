/**
 * Budget analysis of tightness runs: for each shard file (or directory of them; one run per
 * argument), the frozen-decoder Δ gap of every encoder per seed, its seed-to-seed sd, the
 * test-row standard error within a seed, the paired 95 % half-width, and the half-width 3, 6 and
 * 10 seeds would give at that sd (see bench/tightness/budget.ts).
 *
 *   tsx bench/tightness.ts --quick --seeds 6 --shard 0/1 --out runs/a     # per-row values are in shard files
 *   tsx bench/tightness-budget.ts runs/a runs/b
 */
import { mergeShards, shardFiles } from './tightness/shard.js';
import { budgetRows, projectedHalfWidth, simulateWall, type SimJob } from './tightness/budget.js';
import type { JobResult } from './tightness/types.js';

/** The pool's job list of a run (as bench/tightness.ts orders it) with each job's CPU seconds as its duration. */
function poolJobs(results: Map<string, JobResult>, combos: readonly { name: string }[], baseline: string, seeds: readonly number[], frozen: boolean): SimJob[] {
  const ordered = [baseline, ...combos.map((c) => c.name).filter((n) => n !== baseline)];
  const out: SimJob[] = [];
  const add = (id: string, after?: string) => {
    const r = results.get(id);
    if (!r || r.cpuSeconds === undefined) throw new Error(`job ${id}: no CPU time recorded (a run from before cpuSeconds was kept?)`);
    out.push({ id, seconds: r.cpuSeconds, ...(after ? { after } : {}) });
  };
  for (const c of ordered) for (const s of seeds) add(`co-trained:${c}:${s}`);
  if (frozen) for (const s of seeds) for (const c of ordered) add(`frozen:${c}:${s}`, `co-trained:${baseline}:${s}`);
  return out;
}

const f = (v: number) => (Number.isFinite(v) ? (v < 0 ? `−${(-v).toFixed(2)}` : v.toFixed(2)) : '—');

function main(args: string[]): void {
  if (!args.length) throw new Error('usage: tsx bench/tightness-budget.ts <shard file or directory>… (one run per argument)');
  for (const a of args) {
    const m = mergeShards(shardFiles([a]));
    const s = m.key.settings;
    const results = [...m.results.values()];
    const cpu = results.reduce((t, r) => t + (r.cpuSeconds ?? 0), 0);
    process.stdout.write(
      `\n${a}: ${s.trainRows} rows × ${s.epochs} epochs, ${s.testRows} test rows, K = ${s.llSamples}, seeds ${m.seeds.join(', ')}; ` +
        `${results.length} jobs, ${cpu.toFixed(0)} CPU-s in jobs (${(cpu / Math.max(1, results.length)).toFixed(1)} per job)\n`,
    );
    const jobs = poolJobs(m.results, m.key.combos, m.key.baseline, m.seeds, m.key.frozen !== null);
    for (const w of [1, 2, 4]) process.stdout.write(`  jobs' CPU seconds scheduled as the pool does on ${w} idle worker(s): ${simulateWall(jobs, w).toFixed(0)} s (worker start-up not included)\n`);
    process.stdout.write('\n');
    process.stdout.write('| encoder | Δ gap per seed | mean | seed sd | row SE | 95 % half-width | t | half-width at 3 / 6 / 10 seeds |\n|---|---|---:|---:|---:|---:|---:|---|\n');
    for (const r of budgetRows(results, m.key.baseline)) {
      process.stdout.write(
        `| ${r.name} | ${r.perSeed.map(f).join(', ')} | ${f(r.mean)} | ${f(r.seedSd)} | ${f(r.rowSe)} | ${f(r.halfWidth)} | ${f(r.t)} | ` +
          `${[3, 6, 10].map((n) => f(projectedHalfWidth(r.seedSd, n))).join(' / ')} |\n`,
      );
    }
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`tightness-budget: ${(e as Error).message}\n`);
  process.exit(1);
}
