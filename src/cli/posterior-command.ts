import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { selectBackend } from '../backend/select-backend.js';
import { Random } from '../core/random.js';
import { datasetTensor } from '../data/batches.js';
import { posteriorGrid, type PosteriorGrid } from '../eval/posterior-grid.js';
import { renderPosteriorPlot } from '../plot/posterior-plot.js';
import { loadSavedModel, writeFileAtomic } from '../train/saved-model.js';
import { checkDataFor, CliError, loadUserPlugins, messageOf, resolveEvalData, UsageError, type CliIo } from './support.js';

export interface PosteriorArgs {
  model: string;
  png: string;
  rows: string;
  dims?: string;
  grid?: number;
  samples?: number;
  data?: string;
  seed?: number;
  plugin?: string[];
  backend?: string;
  quiet?: boolean;
}

/** "0,5,9" → [0, 5, 9]: distinct non-negative integers, or a usage error naming the option. */
export function parseIndexList(option: string, value: string, { count }: { count?: number } = {}): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const out = parts.map(Number);
  if (parts.some((s) => !/^\d+$/.test(s)) || (count !== undefined && out.length !== count) || new Set(out).size !== out.length) {
    const want = count === undefined ? 'a comma-separated list of distinct row indices ≥ 0 (e.g. 0,5,9)' : `${count} distinct comma-separated indices ≥ 0 (e.g. 0,1)`;
    throw new UsageError(`${option}: expected ${want}; got ${JSON.stringify(value)}`);
  }
  return out;
}

/**
 * `vaekit posterior`: for each chosen data row, the true posterior p(z|x) on a grid beside the
 * encoder's q(z|x) with its samples (two latent coordinates; the others at the encoder's mean),
 * written as one PNG; prints each row's ELBO, log p̂(x) with ESS and Pareto k̂, and the grid's log p(x).
 */
export async function posteriorCommand(args: PosteriorArgs, io: CliIo): Promise<number> {
  const rows = parseIndexList('--rows', args.rows);
  const dims = args.dims === undefined ? ([0, 1] as const) : (parseIndexList('--dims', args.dims, { count: 2 }) as [number, number]);
  const plugins = (await loadUserPlugins(args.plugin)).map((p) => p.module);
  await selectBackend(args.backend ?? 'auto', { quiet: args.quiet ?? false });
  let loaded;
  try {
    loaded = await loadSavedModel(args.model, { plugins });
  } catch (e) {
    throw new CliError(`--model ${messageOf(e)}`);
  }
  const { vae, config } = loaded;
  try {
    if (vae.latentDim < 2) throw new CliError(`--model ${args.model}: latentDim is ${vae.latentDim}; the picture needs at least 2 latent coordinates`);
    if (dims.some((d) => d >= vae.latentDim)) throw new UsageError(`--dims: expected coordinates in 0..${vae.latentDim - 1}; got ${args.dims}`);
    const need = Math.max(...rows) + 1;
    const data = resolveEvalData(config, args.data, need);
    checkDataFor(vae, data, `--data ${args.data ?? `(${config.data.name} test split)`}`);
    if (data.rows < need) throw new UsageError(`--rows: the data has ${data.rows} rows (0..${data.rows - 1}); got row ${need - 1}`);
    // The rows as the model sees them: a dynamically binarised set is binarised once (seed 0, as in eval).
    const x = datasetTensor(data, { end: need, ...(data.binarize === 'dynamic' ? { random: new Random(0) } : {}) });
    const values = x.dataSync() as Float32Array;
    x.dispose();
    const grids: { grid: PosteriorGrid; label: string }[] = [];
    for (const r of rows) {
      const grid = await posteriorGrid(vae, values.subarray(r * vae.dataDim, (r + 1) * vae.dataDim), {
        dims,
        ...(args.grid !== undefined ? { size: args.grid } : {}),
        ...(args.samples !== undefined ? { samples: args.samples } : {}),
        seed: args.seed ?? 1,
      });
      grids.push({ grid, label: `row ${r}` });
      const f = (v: number) => v.toFixed(3);
      const px = vae.latentDim === 2 ? 'grid log p(x)' : 'grid log ∫ p(x, z) over the slice';
      io.out(
        `row ${r}: ELBO ${f(grid.elbo)}, log p̂(x) ${f(grid.logPHat)} (K = ${grid.samples}; ESS ${grid.ess.toFixed(1)}, Pareto k̂ ${grid.paretoK.toFixed(2)}), ${px} ${f(grid.gridLogPx)}; q on the grid: ${grid.qSource}\n`,
      );
    }
    const png = renderPosteriorPlot(grids, { title: `p(z|x) beside q(z|x): ${args.model} (${vae.encoder.name} encoder)` });
    mkdirSync(dirname(args.png), { recursive: true });
    writeFileAtomic(args.png, png);
    io.out(`wrote ${args.png}: ${rows.length} row${rows.length === 1 ? '' : 's'}, coordinates z${dims[0] + 1} × z${dims[1] + 1}\n`);
    return 0;
  } finally {
    vae.dispose();
  }
}
