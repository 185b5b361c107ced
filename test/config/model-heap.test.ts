import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../support/heap-growth.ts', import.meta.url));

describe('models built and disposed', () => {
  // Before the fix each createVae kept ~47 KB until the job yielded: 400 models grew the heap by ~19 MB.
  it('leave a bounded JS heap: 400 createVae/dispose in one loop and 100 loadVae/dispose grow it by under 4 MB and 2 MB', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, '400'], { encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { createGrowth: number; loadGrowth: number; tensors: number };
    expect(m.tensors).toBe(0);
    expect(m.createGrowth).toBeLessThan(4e6);
    expect(m.loadGrowth).toBeLessThan(2e6);
  });
});
