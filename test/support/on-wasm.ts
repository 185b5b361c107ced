import { afterAll, beforeAll } from 'vitest';
import { selectBackend } from '../../src/backend/select-backend.js';

/**
 * For test files about the wasm backend's speed fixes: run the file on wasm whatever
 * VAEKIT_BACKEND says (which `selectBackend` otherwise obeys), then go back to it.
 */
export function useWasmBackend(): void {
  const configured = process.env.VAEKIT_BACKEND;
  beforeAll(async () => {
    delete process.env.VAEKIT_BACKEND;
    try {
      await selectBackend('wasm', { quiet: true });
    } finally {
      if (configured !== undefined) process.env.VAEKIT_BACKEND = configured;
    }
  });
  afterAll(async () => {
    await selectBackend(configured || 'wasm', { quiet: true });
  });
}
