/**
 * The demo page: vaekit's browser entry on tfjs's wasm backend, whose binaries are files of the
 * page (imported as URLs; nothing is fetched from elsewhere). Two views: the bound explorer and a
 * saved MNIST model. `?model=<url>` opens the saved-model view on that run directory.
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { selectBackend } from 'vaekit';
import { setUpExplorer } from './explorer.js';
import { setUpSavedModelView } from './saved-model-view.js';

const views = { explorer: 'tab-explorer', saved: 'tab-saved' } as const;

function show(view: keyof typeof views): void {
  for (const [v, tab] of Object.entries(views)) {
    (document.getElementById(v) as HTMLElement).hidden = v !== view;
    document.getElementById(tab)!.classList.toggle('active', v === view);
  }
}

async function main(): Promise<void> {
  // Imported here as vaekit's backend selection imports it (dynamically): one chunk, no duplicate.
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd });
  const backend = document.getElementById('backend')!;
  const name = await selectBackend('wasm', { quiet: true });
  backend.dataset.backend = String(name);
  backend.textContent = `tfjs backend: ${name}`;
  for (const v of Object.keys(views) as (keyof typeof views)[]) document.getElementById(views[v])!.addEventListener('click', () => show(v));
  setUpExplorer();
  setUpSavedModelView();
  const model = new URLSearchParams(window.location.search).get('model');
  if (model !== null) {
    show('saved');
    (document.querySelector('#saved-form input[name=url]') as HTMLInputElement).value = model;
    (document.getElementById('saved-form') as HTMLFormElement).requestSubmit();
  }
}

main().catch((e: unknown) => {
  const backend = document.getElementById('backend')!;
  backend.dataset.backend = 'error';
  backend.textContent = `cannot start: ${e instanceof Error ? e.message : String(e)}`;
});
