import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '../../plugins/index.js';
import { runEmVsVae } from '../../bench/em-vs-vae.js';

describe('bench/em-vs-vae', () => {
  it('runs on a tiny budget and writes a table with every column filled', async () => {
    const out = mkdtempSync(join(tmpdir(), 'em-vs-vae-'));
    const before = tf.memory().numTensors;
    const r = await runEmVsVae({ rows: 300, testRows: 100, dataDim: 8, latentDim: 2, epochs: 2, batchSize: 50, elboSamples: 20, encoders: ['gaussian', 'planar', 'no-such-encoder'], hidden: [16], out, progress: false });
    // Every VAE the bench builds is disposed: no tensor is left behind.
    expect(tf.memory().numTensors).toBe(before);
    expect(r.skipped).toEqual(['no-such-encoder']);
    expect(r.rows.map((x) => x.model)).toEqual([
      'true model',
      'PPCA, closed form (ML)',
      `PPCA, EM (${r.emIterations} iterations)`,
      'VAE, gaussian encoder',
      'VAE, planar encoder',
    ]);
    const [trueRow, closed, em, gauss, planar] = r.rows as [typeof r.rows[0], typeof r.rows[0], typeof r.rows[0], typeof r.rows[0], typeof r.rows[0]];
    // EM reaches the ML training log-likelihood, which is at least the true model's.
    expect(Math.abs(em.trainLogLikelihood - closed.trainLogLikelihood)).toBeLessThan(1e-6);
    expect(closed.trainLogLikelihood).toBeGreaterThanOrEqual(trueRow.trainLogLikelihood);
    // No VAE beats the maximum-likelihood training log p(x) of its family (a linear Gaussian model).
    for (const v of [gauss, planar]) {
      expect(v.trainLogLikelihood).toBeLessThanOrEqual(closed.trainLogLikelihood + 1e-6);
      expect(v.gap.mean).toBeGreaterThan(0);
      expect(Math.abs(v.gap.mean - (v.testLogLikelihood.mean - v.testElbo.mean))).toBeLessThan(1e-9);
      expect(v.parameters).toBeGreaterThan(0);
    }
    expect(gauss.klToPosterior).not.toBeNull();
    expect(Math.abs(gauss.gap.mean - gauss.klToPosterior!.mean)).toBeLessThan(0.1 + 3 * gauss.gap.stdErr);
    const md = readFileSync(join(out, 'em-vs-vae.md'), 'utf8');
    const tableRows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| model'));
    expect(tableRows).toHaveLength(5);
    for (const line of tableRows) {
      const cells = line.split(' | ');
      expect(cells).toHaveLength(9);
      for (const c of cells) expect(c.trim()).not.toBe('');
      expect(line).not.toContain('NaN');
    }
    expect(md).toContain('Not registered, skipped: no-such-encoder.');
    expect(existsSync(join(out, 'em-vs-vae.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'em-vs-vae.json'), 'utf8')).rows).toHaveLength(5);
  });
});
