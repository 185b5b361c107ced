import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tf } from '../../plugins/index.js';
import type { Dataset } from '../../src/index.js';
import { createProgress } from '../../src/eval/progress.js';
import { rowBatches } from '../../src/eval/rows.js';

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream: w as unknown as NodeJS.WriteStream, text: () => text };
}

describe('createProgress', () => {
  it('prints plain lines every 10 % off a terminal, and a final line', () => {
    const s = sink();
    const p = createProgress('work', 50, { enabled: true, stream: s.stream });
    for (let i = 0; i < 50; i++) p.tick();
    p.stop();
    p.stop();
    const lines = s.text().trim().split('\n');
    expect(lines).toHaveLength(10); // 5, 10, …, 45, then 50/50 at stop
    expect(lines[0]).toMatch(/^work: 5\/50 \(10%\) \d+\.\ds$/);
    expect(lines[9]).toMatch(/^work: 50\/50 \(100%\)/);
  });

  it('is silent when disabled', () => {
    const s = sink();
    const p = createProgress('work', 10, { enabled: false, stream: s.stream });
    p.tick(10);
    p.stop();
    expect(s.text()).toBe('');
  });
});

describe('rowBatches', () => {
  it('binarises a dynamically binarised set once, the same way whatever the batch size', () => {
    const x = Float32Array.from({ length: 7 * 5 }, (_, i) => (i % 10) / 10);
    const data: Dataset = { name: 'toy', x, rows: 7, dim: 5, binarize: 'dynamic' };
    const collect = (b: number, seed: number) => {
      const out: number[] = [];
      for (const { x: t, start, end } of rowBatches(data, b, { binarizeSeed: seed })) {
        expect(t.shape).toEqual([end - start, 5]);
        out.push(...t.dataSync());
      }
      return out;
    };
    const before = tf.memory().numTensors;
    const a = collect(7, 3);
    expect(collect(2, 3)).toEqual(a);
    expect(collect(3, 4)).not.toEqual(a);
    expect(new Set(a)).toEqual(new Set([0, 1]));
    expect(tf.memory().numTensors).toBe(before);
  });
});
