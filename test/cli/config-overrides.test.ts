/**
 * `vaekit train --set path=value` and the flags --seed, --learning-rate, --epochs, --rows: what is
 * set is what the run saves (a round trip through config.json), held to the config's validation,
 * and malformed overrides are usage errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../plugins/index.js';
import { applyConfigOverrides, configOverrides, parseSet } from '../../src/cli/config-overrides.js';
import { parseConfig } from '../../src/config/schema.js';
import { cliIn, tinyConfig } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vaekit-set-'));
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify(tinyConfig()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => cliIn(dir, argv);

describe('config overrides', () => {
  const base = parseConfig(tinyConfig());

  it('parses values as JSON where they are JSON, as strings otherwise', () => {
    expect(parseSet('train.learningRate=0.003')).toMatchObject({ path: ['train', 'learningRate'], value: 0.003 });
    expect(parseSet('model.encoder.hidden=[100, 100]').value).toEqual([100, 100]);
    expect(parseSet('train.objective={"type":"iwae","samples":5}').value).toEqual({ type: 'iwae', samples: 5 });
    expect(parseSet('data.name=fashion-mnist').value).toBe('fashion-mnist');
    expect(parseSet('data.path=/a=b').value).toBe('/a=b'); // split at the first "="
  });

  it('sets nested fields and flags, flags last, and validates the result', () => {
    const c = applyConfigOverrides(base, configOverrides({ set: ['model.encoder.hidden=[8, 8]', 'train.objective.type=iwae', 'train.seed=9'], seed: 4, learningRate: 0.02, epochs: 3, rows: 120 }));
    expect(c.model.encoder).toEqual({ type: 'gaussian', hidden: [8, 8] });
    expect(c.train).toMatchObject({ objective: { type: 'iwae', samples: 1 }, seed: 4, learningRate: 0.02, epochs: 3 });
    expect(c.data.limit).toBe(120);
  });

  it('rejects what the config file would reject, naming the override and the field', () => {
    expect(() => applyConfigOverrides(base, configOverrides({ set: ['train.learningRate=-1'] }))).toThrow(
      'the config after --set train.learningRate=-1: train.learningRate: expected',
    );
    expect(() => applyConfigOverrides(base, configOverrides({ set: ['train.learningrate=0.1'] }))).toThrow(/--set train\.learningrate=0\.1: .*learningrate/);
    expect(() => applyConfigOverrides(base, configOverrides({ set: ['train.epochs=NaN'] }))).toThrow(/train\.epochs: expected .*; got "NaN"/);
    expect(() => applyConfigOverrides(base, configOverrides({ set: ['train.seed.x=1'] }))).toThrow('--set train.seed.x=1: train.seed is 3, not an object with fields');
  });

  it('calls a malformed --set a usage error (exit code 2)', async () => {
    const noEq = await cli('train', '--config', 'tiny.json', '--out', 'bad', '--set', 'train.learningRate');
    expect(noEq.code).toBe(2);
    expect(noEq.err).toContain('--set "train.learningRate": expected path=value');
    const badFlag = await cli('train', '--config', 'tiny.json', '--out', 'bad', '--learning-rate', '-0.1');
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toContain('--learning-rate: expected a positive number; got "-0.1"');
  });

  it('round trips: the run saves the config with the overrides, and trains as told', async () => {
    const r = await cli('train', '--config', 'tiny.json', '--out', 'run', '--quiet', '--set', 'model.encoder.hidden=[16]', '--set', 'train.batchSize=50', '--seed', '11', '--learning-rate', '0.002', '--epochs', '2', '--rows', '100');
    expect(r.code, r.err).toBe(0);
    const saved = JSON.parse(readFileSync(join(dir, 'run', 'config.json'), 'utf8')) as { model: { encoder: unknown }; train: Record<string, unknown>; data: Record<string, unknown> };
    expect(saved.model.encoder).toEqual({ type: 'gaussian', hidden: [16] });
    expect(saved.train).toMatchObject({ batchSize: 50, seed: 11, learningRate: 0.002, epochs: 2 });
    expect(saved.data.limit).toBe(100);
    const history = JSON.parse(readFileSync(join(dir, 'run', 'history.json'), 'utf8')) as { epochs: { steps: number }[] };
    expect(history.epochs.map((e) => e.steps)).toEqual([2, 2]); // 100 rows / batches of 50
    const resumed = await cli('train', '--out', 'run', '--resume', '--seed', '5', '--set', 'train.batchSize=20');
    expect(resumed.code).toBe(1);
    expect(resumed.err).toContain('--resume: only train.epochs and train.learningRate may change when resuming; drop --set train.batchSize=20, --seed 5');
  });
});
