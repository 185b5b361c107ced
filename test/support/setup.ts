import { beforeAll } from 'vitest';
import { selectBackend } from '../../src/backend/select-backend.js';

// Tests run on the embedded wasm backend unless VAEKIT_BACKEND says otherwise.
beforeAll(async () => {
  await selectBackend(process.env.VAEKIT_BACKEND || 'wasm', { quiet: true });
});
