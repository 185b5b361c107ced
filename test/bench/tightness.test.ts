import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTable, formatTable, sharedLogLikelihood, type TableRecord } from '../../bench/tightness/report.js';
import { defaultCombos, loadCombos } from '../../bench/tightness/combos.js';
import type { Combo, JobResult } from '../../bench/tightness/types.js';
import { pairedDifference, welchDifference } from '../../src/eval/seed-stats.js';

const est = (mean: number, stdErr = 0.1) => ({ mean, stdErr });

/** A synthetic job result with per-row ELBO and log p̂(x) (rows given). */
function result(mode: 'co-trained' | 'frozen', name: string, seed: number, elboRows: number[], llRows: number[], amort = 1): JobResult {
  const m = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    id: `${mode}:${name}:${seed}`,
    mode,
    name,
    seed,
    encoderType: name,
    parameters: { encoder: 10, decoder: 20, prior: 0, total: 30 },
    epochs: 1,
    secondsPerEpoch: 2,
    trainSeconds: 2,
    evalSeconds: 1,
    finalTrainBound: -100,
    klExact: name === 'gaussian',
    elbo: est(m(elboRows)),
    iwae: [{ samples: 10, ...est(m(elboRows) + 1) }],
    logLikelihood: est(m(llRows)),
    gap: est(m(llRows) - m(elboRows)),
    amortization: { rows: 2, encoderElbo: est(0), optimizedElbo: est(amort), amortizationGap: est(amort), improvedRows: 2 },
    perRow: { elbo: elboRows, logLikelihood: llRows },
    ...(mode === 'frozen' ? { frozenUnchanged: true } : {}),
  };
}

const combos: Combo[] = ['gaussian', 'planar'].map((n) => ({ name: n, model: { latentDim: 2, encoder: { type: n }, likelihood: { type: 'bernoulli' } } }));
const jobId = (kind: 'co-trained' | 'frozen', name: string, seed: number) => `${kind}:${name}:${seed}`;

describe('tightness tables', () => {
  it('takes the shared log p̂(x) of a frozen decoder as the per-row maximum over the encoders', () => {
    const a = result('frozen', 'gaussian', 1, [-10, -20], [-8, -15]);
    const b = result('frozen', 'planar', 1, [-9, -19], [-7.5, -16]);
    expect(sharedLogLikelihood([a, b])).toEqual([-7.5, -15]);
  });

  it('reports frozen gaps against the shared log p̂(x) and differences paired by seed', () => {
    const results = new Map<string, JobResult>();
    const rows = {
      gaussian: { 1: [[-10, -20], [-8, -15]], 2: [[-11, -21], [-8, -16]], 3: [[-10.5, -20], [-8.5, -15]] },
      planar: { 1: [[-9, -19], [-7.5, -16]], 2: [[-10.4, -20], [-8.2, -15.5]], 3: [[-9.5, -19.5], [-8, -15.2]] },
    } as const;
    for (const [name, bySeed] of Object.entries(rows)) {
      for (const [s, [e, l]] of Object.entries(bySeed)) results.set(jobId('frozen', name, Number(s)), result('frozen', name, Number(s), [...e], [...l]));
    }
    const t = buildTable('frozen', combos, [1, 2, 3], results, new Map(), jobId, { k: 10 }, 'gaussian', (s) => `seed ${s}`);
    const gap = (name: 'gaussian' | 'planar', s: 1 | 2 | 3) => {
      const other = name === 'gaussian' ? 'planar' : 'gaussian';
      const shared = rows[name][s][1].map((v, i) => Math.max(v, rows[other][s][1][i]!));
      return shared.reduce((a, v, i) => a + v - rows[name][s][0][i]!, 0) / 2;
    };
    const g = t.models.find((m) => m.name === 'gaussian')!;
    const p = t.models.find((m) => m.name === 'planar')!;
    expect(g.seeds.map((r) => r.gap)).toEqual([1, 2, 3].map((s) => gap('gaussian', s as 1)));
    expect(p.summary.gap!.mean).toBeCloseTo([1, 2, 3].reduce((a, s) => a + gap('planar', s as 1), 0) / 3, 12);
    const direct = pairedDifference(
      [1, 2, 3].map((s) => gap('planar', s as 1)),
      [1, 2, 3].map((s) => gap('gaussian', s as 1)),
    );
    expect(t.method).toBe('paired');
    expect(t.differences.planar!.gap!.lower).toBeCloseTo(direct.lower, 12);
    expect(t.differences.planar!.gap!.upper).toBeCloseTo(direct.upper, 12);
    expect(t.sharedLogLikelihood!.perSeed.map((x) => x.mean)).toEqual([(-7.5 - 15) / 2, (-8 - 15.5) / 2, (-8 - 15) / 2]);
    const md = formatTable(t, {
      settings: { data: 'mnist', trainRows: 100, testRows: 2, testBinarizeSeed: 0, epochs: 1, batchSize: 100, learningRate: 1e-3, objective: { type: 'elbo', samples: 1 }, elboSamples: 1, k: 10, iwaeSamples: [1, 10], llSamples: 10, evalBatchSize: 100, chunk: 100, amortRows: 2, amortSteps: 1, amortLearningRate: 0.01, amortSamples: 1, amortEvalSamples: 1, backend: 'wasm' },
      seeds: [1, 2, 3],
      workers: 2,
      backend: 'wasm',
      wallSeconds: 12,
      dataLabel: 'MNIST',
      command: 'x',
    });
    expect(md).toContain('Shared log p̂(x) =');
    expect(md).toContain('paired by seed');
    expect(md).toMatch(/\| planar \| 10 \| 2\.0 ± 0\.0 \|/);
  });

  it("uses Welch's interval for co-trained models and marks an interval containing zero", () => {
    const results = new Map<string, JobResult>();
    const e = { gaussian: [-100, -101, -99.5], planar: [-100.2, -99.6, -101.1] };
    for (const [name, v] of Object.entries(e)) v.forEach((x, i) => results.set(jobId('co-trained', name, i + 1), result('co-trained', name, i + 1, [x], [x + 5])));
    const t: TableRecord = buildTable('co-trained', combos, [1, 2, 3], results, new Map(), jobId, { k: 10 }, 'gaussian');
    const direct = welchDifference(e.planar, e.gaussian);
    expect(t.differences.planar!.elbo!.df).toBeCloseTo(direct.df, 12);
    expect(t.differences.planar!.elbo!.lower).toBeCloseTo(direct.lower, 12);
    expect(direct.containsZero).toBe(true);
    const s = t.models[1]!.summary.elbo!;
    expect(s.sd).toBeCloseTo(Math.sqrt(e.planar.reduce((a, v) => a + (v - s.mean) ** 2, 0) / 2), 12);
  });

  it('reads combinations from a config list and rejects unregistered encoders by name', () => {
    const c = loadCombos([{ name: 'mine', model: { latentDim: 5, encoder: { type: 'gaussian' }, likelihood: { type: 'bernoulli' } } }, { latentDim: 5, encoder: { type: 'gaussian' }, likelihood: { type: 'bernoulli' } }], 'c.json');
    expect(c.map((x) => x.name)).toEqual(['mine', 'gaussian']);
    expect(c[1]!.model.prior).toEqual({ type: 'standard-normal' });
    expect(() => loadCombos([{ model: { encoder: {} } }], 'c.json')).toThrow(/c\.json\[0\]/);
    expect(() => defaultCombos(['iaf'], ['gaussian', 'planar'])).toThrow(/"iaf" is not a registered encoder; registered: gaussian, planar/);
    const warnings: string[] = [];
    expect(defaultCombos(undefined, ['gaussian', 'hierarchical'], (w) => warnings.push(w)).map((x) => x.name)).toEqual(['gaussian', 'hierarchical']);
    expect(warnings[0]).toMatch(/planar, realnvp not registered/);
  });
});

describe('bench/tightness.ts --quick', () => {
  it('runs end to end on a tiny budget and writes both tables with every column filled', () => {
    const out = mkdtempSync(join(tmpdir(), 'tightness-test-'));
    try {
      const args = [
        '--import', 'tsx', 'bench/tightness.ts', '--quick',
        '--encoders', 'gaussian,planar', '--train-rows', '200', '--epochs', '1', '--test-rows', '30',
        '--iwae-samples', '5', '--samples', '20', '--elbo-samples', '2', '--amort-rows', '6', '--amort-steps', '3',
        '--seeds', '2', '--workers', '2', '--out', out,
      ];
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, VAEKIT_QUIET: '1' }, timeout: 240_000 });
      expect(r.stderr + r.stdout).not.toMatch(/FAILED|Error/);
      expect(r.status).toBe(0);
      const md = readFileSync(join(out, 'tightness.md'), 'utf8');
      const tableRows = (title: string) => {
        const section = md.split('### ').find((s) => s.startsWith(title))!;
        return section.split('\n').filter((l) => /^\| (gaussian|planar) \|/.test(l));
      };
      for (const title of ['Co-trained', 'Frozen decoder']) {
        const rows = tableRows(title);
        expect(rows.length).toBe(3); // gaussian and planar in the table, planar in the differences
        for (const row of rows) {
          const cells = row.split('|').slice(2, -1).map((c) => c.trim());
          for (const c of cells) expect(c).toMatch(/^[−+]?\d/);
          expect(row).not.toMatch(/NaN|—|failed|undefined/);
        }
      }
      expect(md).toMatch(/1 epoch over the first 200 MNIST training rows/);
      expect(md).toMatch(/first 30 MNIST test rows, binarised once \(static, seed 0\)/);
      expect(md).toMatch(/log p̂\(x\) with K=20/);
      expect(md).toMatch(/backend \w+; 2 worker processes; wall time/);
      const json = JSON.parse(readFileSync(join(out, 'tightness.json'), 'utf8'));
      expect(json.seeds).toEqual([1, 2]);
      const [co, frozen] = json.tables;
      expect(co.kind).toBe('co-trained');
      expect(frozen.kind).toBe('frozen');
      for (const t of [co, frozen]) {
        for (const m of t.models) {
          expect(m.seeds.map((s: { seed: number }) => s.seed)).toEqual([1, 2]);
          for (const s of m.seeds) for (const k of ['elbo', 'iwae', 'logLikelihood', 'gap', 'amortizationGap']) expect(Number.isFinite(s[k])).toBe(true);
        }
      }
      for (const m of frozen.models) for (const s of m.seeds) expect(s.frozenUnchanged).toBe(true);
      // IWAE_5 ≥ ELBO on average; gaps against the shared log p̂ are ≥ 0 up to noise.
      for (const m of co.models) expect(m.summary.iwae.mean).toBeGreaterThan(m.summary.elbo.mean);
      const png = readFileSync(join(out, 'tightness.png'));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(existsSync(join(out, 'tightness.json'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
