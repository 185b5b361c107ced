import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODES } from '../../bench/tightness.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const num = (s: string) => Number(s.replace(/,/g, ''));

describe("README: npm start's default budget", () => {
  it('states the constants bench/tightness.ts --quick runs with', () => {
    const m =
      /\*\*Default budget\*\*[^:]*: encoders ([a-z, ]+); ([\d,]+) training rows × (\d+) epochs, batch (\d+); (\d+) seeds; ([\d,]+) test rows; IWAE_(\d+); log p̂\(x\) with K = ([\d,]+)\./.exec(readme);
    expect(m, 'the README line starting "**Default budget**"').not.toBeNull();
    const [, encoders, rows, epochs, batch, seeds, testRows, k, llSamples] = m!;
    const q = MODES.quick;
    expect(encoders!.split(',').map((e) => e.trim())).toEqual(q.encoders);
    expect(num(rows!)).toBe(q.trainRows);
    expect(num(epochs!)).toBe(q.epochs);
    expect(num(batch!)).toBe(q.batchSize);
    expect(num(seeds!)).toBe(q.seeds);
    expect(num(testRows!)).toBe(q.testRows);
    expect(num(k!)).toBe(q.k);
    expect(num(llSamples!)).toBe(q.llSamples);
  });

  it('runs npm start as the --quick mode', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('tsx bench/tightness.ts --quick');
    expect(readme).toContain('`npm start` runs `bench/tightness.ts --quick`');
  });
});
