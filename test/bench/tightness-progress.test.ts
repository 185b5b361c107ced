import { describe, expect, it } from 'vitest';
import { StatusBoard } from '../../bench/tightness/display.js';
import { EVAL_SECONDS_PER_ROW_SAMPLE, RunProgress, STEP_SECONDS, formatClock, formatProgressLine, jobCost, jobFraction, totalCost } from '../../bench/tightness/progress.js';
import { MODES, iwaeLadder } from '../../bench/tightness.js';
import type { Settings } from '../../bench/tightness/types.js';

function quickSettings(): Settings {
  const m = MODES.quick;
  return {
    data: 'mnist', trainRows: m.trainRows, testRows: m.testRows, testBinarizeSeed: 0, epochs: m.epochs, batchSize: m.batchSize,
    learningRate: m.learningRate, objective: m.objective, elboSamples: m.elboSamples, k: m.k, iwaeSamples: iwaeLadder(m.k, m.llSamples),
    llSamples: m.llSamples, evalBatchSize: 100, chunk: 100, amortRows: m.amortRows, amortSteps: m.amortSteps,
    amortLearningRate: m.amortLearningRate, amortSamples: m.amortSamples, amortEvalSamples: m.amortEvalSamples, backend: 'wasm',
  };
}

/** A stream that records what is written, as a terminal or not. */
function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, columns: 200, text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

describe('tightness progress and ETA', () => {
  it('splits a job into training steps and evaluation samples at the measured unit costs', () => {
    const s = { ...quickSettings(), trainRows: 3000, epochs: 4, testRows: 200, llSamples: 500, iwaeSamples: [1, 10, 100, 500], elboSamples: 10, amortRows: 50, amortSteps: 30, amortSamples: 5 };
    const c = jobCost(s);
    expect(c.train).toBeCloseTo(30 * 4 * STEP_SECONDS, 12);
    expect(c.bounds).toBeCloseTo(200 * (500 + 611 + 10) * EVAL_SECONDS_PER_ROW_SAMPLE, 12);
    expect(c.amortization).toBeCloseTo(50 * 30 * 5 * 3 * EVAL_SECONDS_PER_ROW_SAMPLE, 12);
    expect(totalCost(c)).toBeCloseTo(c.train + c.bounds + c.amortization, 12);
  });

  it('places each stage of a job at its share of the expected cost', () => {
    const c = { train: 6, bounds: 3, amortization: 1 };
    expect(jobFraction(c, { stage: 'train', epochsDone: 0, epochs: 3 })).toBe(0);
    expect(jobFraction(c, { stage: 'train', epochsDone: 2, epochs: 3 })).toBeCloseTo(0.4, 12);
    expect(jobFraction(c, { stage: 'bounds', rowsDone: 100, rows: 200 })).toBeCloseTo(0.75, 12);
    expect(jobFraction(c, { stage: 'amortization' })).toBeCloseTo(0.9, 12);
    expect(jobFraction(c, { stage: 'done' })).toBe(1);
    // A schedule's epoch lines never push a job past its training share.
    expect(jobFraction(c, { stage: 'train', epochsDone: 9, epochs: 3 })).toBeCloseTo(0.6, 12);
  });

  it('extrapolates the ETA from the fraction done: remaining = elapsed × (1 − f) / f', () => {
    const p = new RunProgress(4);
    expect(p.remainingSeconds(10)).toBeNull();
    p.set('a', 1);
    p.set('b', 0.5);
    expect(p.fraction()).toBeCloseTo(0.375, 12);
    expect(p.remainingSeconds(30)).toBeCloseTo((30 * 0.625) / 0.375, 9);
    p.set('b', 0.2); // a late status never moves a job back
    expect(p.fraction()).toBeCloseTo(0.375, 12);
    p.set('c', 1);
    p.set('d', 1);
    p.set('b', 1);
    expect(p.remainingSeconds(80)).toBe(0);
  });

  it('formats the bar, the counts and the clocks', () => {
    expect(formatClock(75)).toBe('1:15');
    expect(formatClock(3725)).toBe('1:02:05');
    expect(formatClock(-3)).toBe('0:00');
    expect(formatProgressLine(0.5, 3, 8, 75, 75, 10)).toBe('[█████░░░░░] 50%  3/8 jobs  1:15 elapsed  ETA 1:15');
    expect(formatProgressLine(0, 0, 8, 2, null, 4)).toBe('[░░░░] 0%  0/8 jobs  0:02 elapsed  ETA —');
    expect(formatProgressLine(1.2, 8, 8, 100, 0, 4)).toBe('[████] 100%  8/8 jobs  1:40 elapsed  ETA 0:00');
  });

  it('draws the bar on a terminal only, and nothing at all when quiet', () => {
    const tty = fakeStream(true);
    const board = new StatusBoard(2, 8, tty, { quiet: false });
    board.progress('[██░░] 50%');
    board.set(0, 'training');
    expect(tty.text).toContain('[██░░] 50%');
    const plain = fakeStream(false);
    const b2 = new StatusBoard(2, 8, plain, { quiet: false });
    b2.progress('[██░░] 50%');
    b2.set(0, 'training');
    b2.done('job 1');
    expect(plain.text).toBe('[worker 1] training\n[1/8] job 1\n');
    const quiet = fakeStream(true);
    const b3 = new StatusBoard(2, 8, quiet, { quiet: true });
    b3.progress('[██░░] 50%');
    b3.set(0, 'training');
    b3.done('job 1');
    expect(quiet.text).toBe('');
  });
});
