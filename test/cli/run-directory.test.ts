import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../plugins/index.js';
import { loadSavedModel, nonFiniteValues } from '../../src/train/saved-model.js';
import { BIN, cliIn, ROOT, snapshot, tinyConfig } from './helpers.js';

// The CLI in-process (runCli), and as two real processes for the concurrent trains.
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vaekit-rundir-'));
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify(tinyConfig({ train: { epochs: 2 } }), null, 2));
  const r = await cli('train', '--config', 'tiny.json', '--out', 'runs/a', '--quiet');
  expect(r.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => cliIn(dir, argv);

/** `vaekit` in a child process, asynchronously (to run two at once). */
function vaekitAsync(args: string[]): Promise<{ code: number; pid: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, VAEKIT_QUIET: '1', VAEKIT_BACKEND: 'wasm' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, pid: child.pid!, stderr }));
  });
}

const temporaries = (d: string) => readdirSync(d).filter((f) => /\.(tmp|prev)-\d+-|^\.vaekit-lock/.test(f));

describe('run directories', () => {
  it('two trains started together into one directory: one trains, the other is refused (naming the writer\'s PID while it writes), the winner\'s files intact', async () => {
    const [a, b] = await Promise.all([vaekitAsync(['train', '--config', 'tiny.json', '--out', 'runs/dual']), vaekitAsync(['train', '--config', 'tiny.json', '--out', 'runs/dual'])]);
    const [winner, loser] = a.code === 0 ? [a, b] : [b, a];
    expect(winner.code).toBe(0);
    expect(loser.code).toBe(1);
    // The two start together, but on a loaded machine one process can take longer to start than
    // the other takes to train: then the lock is free again and the directory holds a finished run.
    const locked = `^vaekit: --out runs/dual: locked by another process writing it: PID ${winner.pid} \\(since .*train --config tiny.json --out runs/dual\\); wait for it to finish or stop it, or choose another directory\\n$`;
    const finished = '^vaekit: --out runs/dual: the directory already exists and is not empty; pass --resume to continue its run, --force to overwrite it, or choose another --out\\n$';
    expect(loser.stderr).toMatch(new RegExp(`${locked}|${finished}`));
    const loaded = await loadSavedModel(join(dir, 'runs/dual'));
    expect(loaded.recovered).toBe(false);
    expect((loaded.manifest.checkpoint as { epoch: number }).epoch).toBe(2);
    loaded.vae.dispose();
    expect(temporaries(join(dir, 'runs/dual'))).toEqual([]);
  }, 300_000);

  it('an edited config.json is reported as edited (naming the file), not as an interrupted save; --use-previous uses the previous save; --resume does not overwrite it', async () => {
    cpSync(join(dir, 'runs/a'), join(dir, 'runs/edited'), { recursive: true });
    const cfg = join(dir, 'runs/edited/config.json');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('"limit": 300', '"limit": 301'));
    const before = snapshot(join(dir, 'runs/edited'));
    const e = await cli('eval', '--model', 'runs/edited', '--samples', '5', '--quiet');
    expect(e.code).toBe(1);
    expect(e.err).toBe(
      'vaekit: --model runs/edited: config.json does not match its SHA-256 in model.json (changed after it was saved: edited or damaged; no save was in progress); the previous save (epoch 1) is intact: load it with usePrevious (vaekit: --use-previous), or restore the file\n',
    );
    expect(e.err).not.toContain('interrupted');
    const r = await cli('train', '--out', 'runs/edited', '--resume', '--epochs', '3', '--quiet');
    expect(r.code).toBe(1);
    expect(r.err).toContain('vaekit: --resume: runs/edited: config.json does not match its SHA-256');
    expect(snapshot(join(dir, 'runs/edited'))).toEqual(before);
    const p = await cli('eval', '--model', 'runs/edited', '--samples', '5', '--quiet', '--use-previous');
    expect(p.code).toBe(0);
    expect(p.err).toContain('vaekit: runs/edited: config.json does not match its SHA-256 in model.json (changed after it was saved: edited or damaged; no save was in progress); using the previous complete save (epoch 1)');
  });

  it('--png never overwrites a model\'s files, names a directory as such, and fails fast where a folder cannot be made', async () => {
    const before = snapshot(join(dir, 'runs/a'));
    for (const [png, msg] of [
      ['runs/a/model.json', 'refusing to overwrite it: model.json is a file of the saved model in '],
      ['runs/../runs/a/weights.bin', 'refusing to overwrite it: weights.bin is a file of the saved model in '],
      ['runs/a/.prev-model.json', 'refusing to overwrite it: .prev-model.json belongs to the saves of the model in '],
      ['runs/a/history.json', 'refusing to overwrite it: history.json is a file of the training run in '],
      ['runs/a', 'is a directory; expected a file path (e.g. runs/a/samples.png)'],
      ['/proc/nope/s.png', 'cannot create the directory /proc/nope (ENOENT)'],
    ]) {
      for (const command of ['sample', 'reconstruct']) {
        const r = await cli(command!, '--model', 'runs/a', '--png', png!, '--n', '4', '--quiet');
        expect(r.code).toBe(1);
        expect(r.err).toContain(`vaekit: --png ${png}: `);
        expect(r.err).toContain(msg);
      }
    }
    expect(snapshot(join(dir, 'runs/a'))).toEqual(before);
    const ok = await cli('sample', '--model', 'runs/a', '--png', 'runs/a/samples.png', '--n', '4', '--quiet');
    expect(ok.code).toBe(0);
    rmSync(join(dir, 'runs/a/samples.png'));
  });

  it('orphaned temporary files of killed runs are removed by the next --resume and --force', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    for (const [flags, run] of [
      [['--resume', '--epochs', '3'], 'runs/orphans-resume'],
      [['--force'], 'runs/orphans-force'],
    ] as const) {
      cpSync(join(dir, 'runs/a'), join(dir, run), { recursive: true });
      const orphans = [`.weights.bin.tmp-${dead}-0badc0de`, `.model.json.tmp-${dead}-0badc0de`, `.optimizer.bin.prev-${dead}-12345678`, `.history.json.tmp-${dead}-9abcdef0`];
      for (const f of orphans) writeFileSync(join(dir, run, f), Buffer.alloc(1000));
      const r = await cli('train', '--config', 'tiny.json', '--out', run, ...flags, '--quiet');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(temporaries(join(dir, run))).toEqual([]);
    }
  });

  it('a run whose writer was killed: --resume waits for its lock to turn stale, takes it over and says so', async () => {
    const run = 'runs/killed';
    cpSync(join(dir, 'runs/a'), join(dir, run), { recursive: true });
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `import('./src/train/run-lock.ts').then((m) => m.lockDirectory(${JSON.stringify(join(dir, run))})).then(() => { console.log('ready'); setInterval(() => {}, 1000); })`],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((r) => holder.stdout.on('data', r));
    const killed = new Promise((r) => holder.on('exit', r));
    holder.kill('SIGKILL');
    await killed;
    const r = await cli('train', '--out', run, '--resume', '--epochs', '3', '--quiet');
    expect(r.err).toBe(`vaekit: ${run} is locked by PID ${holder.pid}, which no longer runs; taking the lock over once it is stale (up to 10 s)\n`);
    expect(r.code).toBe(0);
    expect(temporaries(join(dir, run))).toEqual([]);
  });

  it('after a non-finite stop (learning rate 1e39) no weight on disk is non-finite, and the advised command continues the run', async () => {
    writeFileSync(join(dir, 'huge-lr.json'), JSON.stringify(tinyConfig({ train: { epochs: 2, learningRate: 1e39 } }), null, 2));
    const r = await cli('train', '--config', 'huge-lr.json', '--out', 'runs/huge', '--quiet');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^vaekit: training stopped: the update at epoch 1, step 1 made \d+ weights or optimiser moments non-finite/);
    expect(r.err).toContain('The last good checkpoint (epoch 0) is kept in runs/huge. Continue from it with a lower learning rate (now 1e+39):\n');
    const run = join(dir, 'runs/huge');
    const m = JSON.parse(readFileSync(join(run, 'model.json'), 'utf8'));
    expect(nonFiniteValues(readFileSync(join(run, 'weights.bin')), m.weightsManifest[0].weights)).toEqual([]);
    // The advice, run as printed.
    const advised = /\n {2}vaekit (train --out runs\/huge --resume --learning-rate 0\.001)\n/.exec(r.err)?.[1];
    expect(advised).toBeDefined();
    const again = await cli(...advised!.split(' '), '--quiet');
    expect(again.err).toBe('');
    expect(again.code).toBe(0);
    const saved = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(saved.train.learningRate).toBe(0.001);
    const loaded = await loadSavedModel(run);
    expect((loaded.manifest.checkpoint as { epoch: number }).epoch).toBe(2);
    loaded.vae.dispose();
    expect(existsSync(join(run, '.vaekit-lock'))).toBe(false);
  });
});
