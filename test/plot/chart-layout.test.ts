import { describe, expect, it } from 'vitest';
import { chartSvg, plural, wrapText } from '../../plugins/index.js';

const circles = (svg: string) => [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);

describe('chart layout', () => {
  it('spreads markers of series that share an x, so equal values do not hide each other', () => {
    const svg = chartSvg({
      title: 't',
      xLabel: 'encoder',
      yLabel: 'nats',
      kind: 'points',
      series: [
        { name: 'IWAE_100', points: [['gaussian', -200], ['planar', -199]] },
        { name: 'log p̂(x)', points: [['gaussian', -200], ['planar', -198]] },
      ],
    });
    const [a, , b] = circles(svg); // gaussian of series 1, planar of series 1, gaussian of series 2
    expect(a![1]).toBe(b![1]); // same value, same height
    expect(Math.abs(a![0] - b![0])).toBeGreaterThanOrEqual(8); // side by side, not on top of each other
  });

  it('prints long legend names whole, wrapped at spaces', () => {
    const name = 'shared log p̂(x) (frozen decoder, the baseline model of each seed)';
    const svg = chartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name, points: [[1, 1], [2, 2]] }, { name: 'b', points: [[1, 2]] }] });
    expect(svg).not.toContain('…');
    const texts = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const word of name.split(' ')) expect(texts.some((t) => t!.split(' ').includes(word)), word).toBe(true);
    expect(wrapText(name, 30).every((l) => l.length <= 30)).toBe(true);
    expect(wrapText(name, 30).join(' ')).toBe(name);
  });

  it('says 1 epoch and 3 epochs', () => {
    expect([plural(1, 'epoch'), plural(3, 'epoch'), plural(60000, 'row'), plural(1, 'seed')]).toEqual(['1 epoch', '3 epochs', '60,000 rows', '1 seed']);
  });
});
