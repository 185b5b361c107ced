import { writeFileSync } from 'node:fs';
import { selectBackend } from './src/backend/select-backend.js';
import { createQuadratureVae, quadratureLogPx } from './test/support/quadrature-model.js';
import { posteriorGrid } from './src/eval/posterior-grid.js';
import { renderPosteriorPlot } from './src/plot/posterior-plot.js';
await selectBackend('wasm', { quiet: true });
const vae = createQuadratureVae({ type: 'gaussian', hidden: [16] }, { kind: 'product' });
const rows = [];
for (const xv of [1.5, -0.3]) {
  const t = Date.now();
  const g = await posteriorGrid(vae, [xv], { llSamples: 2000 });
  console.log(xv, g.gridLogPx, quadratureLogPx(xv), g.logPHat, g.elbo, g.ess, g.paretoK, g.qSource, Date.now() - t, 'ms');
  rows.push({ grid: g, label: `x = ${xv}` });
}
const vae2 = createQuadratureVae({ type: 'gaussian', hidden: [16] }, { kind: 'ring' });
const g = await posteriorGrid(vae2, [2], { llSamples: 2000 });
console.log('ring', g.gridLogPx, quadratureLogPx(2, { kind: 'ring' }));
rows.push({ grid: g, label: 'ring x = 2' });
writeFileSync('/tmp/w17-post.png', renderPosteriorPlot(rows));
