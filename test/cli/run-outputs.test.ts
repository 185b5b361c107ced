/**
 * What a run writes and `vaekit eval` prints for people: per-epoch metrics as CSV beside
 * history.json (the same numbers), and on linear-Gaussian data the exact log p(x) and the exact gap.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../plugins/index.js';
import { runCli } from '../../src/cli/main.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vaekit-outputs-'));
  const config = JSON.parse(readFileSync(new URL('../../configs/linear-gaussian.json', import.meta.url), 'utf8')) as Record<string, Record<string, unknown>>;
  writeFileSync(join(dir, 'lg.json'), JSON.stringify({ ...config, data: { name: 'linear-gaussian', limit: 400, testLimit: 100, validation: 100 }, train: { ...config.train, epochs: 3 } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return { code: await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t) }), out, err };
  } finally {
    process.chdir(cwd);
  }
}

describe('run outputs', () => {
  it('writes history.csv with the numbers of history.json, and eval prints the exact log p(x) and gap', async () => {
    const t = await cli('train', '--config', 'lg.json', '--out', 'run', '--quiet');
    expect(t.code, t.err).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'run', 'history.json'), 'utf8')) as { epochs: Record<string, number>[] };
    const [head, ...rows] = readFileSync(join(dir, 'run', 'history.csv'), 'utf8').trim().split('\n');
    expect(head).toBe('epoch,trainBound,validElbo,beta,steps,seconds');
    expect(rows).toHaveLength(3);
    rows.forEach((r, i) => {
      const cells = r!.split(',').map(Number);
      expect(cells).toEqual(['epoch', 'trainBound', 'validElbo', 'beta', 'steps', 'seconds'].map((c) => json.epochs[i]![c]));
    });

    const e = await cli('eval', '--model', 'run', '--samples', '100', '--quiet');
    expect(e.code, e.err).toBe(0);
    // Table rows as cells (a `\|` inside a cell is a literal bar).
    const table = e.out.slice(e.out.indexOf('### Exact')).split('\n').filter((l) => l.startsWith('| ')).map((l) => l.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|')).slice(1, -1));
    const num = (label: string) => {
      const r = table.find((cells) => cells[0]!.startsWith(label));
      expect(r, label).toBeDefined();
      return [Number(r![1]), Number(r![2])] as const;
    };
    const [truth] = num('log p(x) under the data-generating model');
    const [logp] = num('log p(x) under the model');
    const [elbo] = num('ELBO (');
    const [gap, gapSe] = num('exact gap log p(x) − ELBO');
    const [kl] = num('KL(q(z|x) ‖ p(z|x)) in closed form');
    expect(gap).toBeCloseTo(logp - elbo, 2); // the gap is log p(x) − ELBO, row by row
    expect(Math.abs(gap - kl)).toBeLessThan(4 * gapSe + 0.01); // and equals KL(q ‖ p(z|x)) up to the ELBO's Monte Carlo error
    expect(gap).toBeGreaterThan(0);
    expect(truth).toBeGreaterThan(logp); // 3 epochs do not reach the generating model
    expect(e.out).toMatch(/The importance-sampled log p̂\(x\) \(K = 100\) is -?[\d.]+ nats from the exact/);
  });
});
