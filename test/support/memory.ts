import { expect } from 'vitest';
import { tf } from '../../src/core/tf.js';

/**
 * Runs `step` a few times to warm up, then `repeats` more, and asserts the live tensor count
 * is the same after every repeat (no tensor leaks).
 */
export async function expectNoLeak(step: () => unknown | Promise<unknown>, repeats = 3): Promise<void> {
  await step();
  await step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) {
    await step();
    expect(tf.memory().numTensors).toBe(before);
  }
}
