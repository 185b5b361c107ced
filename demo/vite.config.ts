/**
 * Vite config of the demo page (`npm run demo` serves it, `npm run build:demo` writes demo/dist).
 * `vaekit` resolves to the repository's browser entry (plugins/browser.ts), as a browser bundler
 * resolves the published package; tfjs's wasm binaries are imported as URLs (`?url`), so they
 * are files of the page and nothing is fetched from elsewhere.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: {
    alias: [{ find: /^vaekit$/, replacement: fileURLToPath(new URL('../plugins/browser.ts', import.meta.url)) }],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // tfjs is large; one chunk for the page is what it is.
    chunkSizeWarningLimit: 4096,
    // The wasm binaries stay files (never inlined as data: URLs).
    assetsInlineLimit: 0,
  },
  server: { host: '127.0.0.1', port: 5173, fs: { allow: ['..'] } },
  preview: { host: '127.0.0.1', port: 4173 },
});
