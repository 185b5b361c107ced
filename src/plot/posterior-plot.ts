import { PNG } from 'pngjs';
import type { PosteriorGrid } from '../eval/posterior-grid.js';
import { escapeXml, niceTicks, svgToPng } from './chart.js';

/** Viridis anchors (perceptually uniform, readable in grey): value 0 → dark purple, 1 → yellow. */
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'].map((h) => [
  parseInt(h.slice(1, 3), 16),
  parseInt(h.slice(3, 5), 16),
  parseInt(h.slice(5, 7), 16),
]);

function viridis(t: number): [number, number, number] {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
}

/** A heat map of densities (row-major [i₁·n₂ + i₂], i₁ along x, i₂ along y upwards) as a PNG data URI. */
function heatmapUri(logDensity: Float64Array, n1: number, n2: number, max: number): string {
  const png = new PNG({ width: n1, height: n2 });
  for (let i = 0; i < n1; i++) {
    for (let j = 0; j < n2; j++) {
      const v = Math.exp(logDensity[i * n2 + j]!) / max;
      const [r, g, b] = viridis(v);
      const o = ((n2 - 1 - j) * n1 + i) * 4;
      png.data[o] = r;
      png.data[o + 1] = g;
      png.data[o + 2] = b;
      png.data[o + 3] = 255;
    }
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d).replace('-', '−') : String(v));

export interface PosteriorPlotRow {
  grid: PosteriorGrid;
  /** Shown in the row's heading, e.g. "row 5". */
  label: string;
}

export interface PosteriorPlotOptions {
  title?: string;
  /** Panel side in pixels (default 260). */
  panel?: number;
}

const Q_LABEL: Record<PosteriorGrid['qSource'], string> = {
  exact: 'q(z|x), exact density',
  'closed-form': 'q(z|x), exact (diagonal Gaussian)',
  kde: 'q(z|x), density ESTIMATE from samples (KDE)',
};

/**
 * One row per data row: the true posterior p(z|x) on the grid (left) and q(z|x) (right) on one
 * shared colour scale (density per unit area, the colour bar at the right), q's samples as white
 * dots on both, axes in the latent coordinates, and a caption with the row's ELBO, log p̂(x) (K,
 * ESS, Pareto k̂) and the grid's log p(x).
 */
export function posteriorPlotSvg(rows: readonly PosteriorPlotRow[], { title = 'True posterior p(z|x) beside the encoder q(z|x)', panel = 260 }: PosteriorPlotOptions = {}): string {
  if (rows.length === 0) throw new Error('posteriorPlot: rows: expected at least one grid; got none');
  const left = 60;
  const gap = 50;
  const barW = 14;
  const head = 52;
  const rowH = panel + 104;
  const width = left + 2 * panel + gap + 30 + barW + 70;
  const height = head + rows.length * rowH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans" font-size="12">`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${width / 2}" y="42" text-anchor="middle" font-size="11" fill="#555">white dots: samples z ~ q(z|x); colour: density (shared scale per row)</text>`,
  ];
  rows.forEach(({ grid: g, label }, r) => {
    const y0 = head + r * rowH + 24;
    const n1 = g.axes[0].length;
    const n2 = g.axes[1].length;
    const lo1 = g.axes[0][0]! - (g.axes[0][1]! - g.axes[0][0]!) / 2;
    const hi1 = g.axes[0][n1 - 1]! + (g.axes[0][1]! - g.axes[0][0]!) / 2;
    const lo2 = g.axes[1][0]! - (g.axes[1][1]! - g.axes[1][0]!) / 2;
    const hi2 = g.axes[1][n2 - 1]! + (g.axes[1][1]! - g.axes[1][0]!) / 2;
    let max = 0;
    for (const a of [g.logPosterior, g.logQ]) for (const v of a) max = Math.max(max, Math.exp(v));
    if (!(max > 0)) max = 1;
    const slice = g.latentDim > 2 ? ` (slice: other ${g.latentDim - 2} coordinates at the encoder's mean)` : '';
    parts.push(`<text x="${left}" y="${y0 - 8}" font-size="13" font-weight="bold">${escapeXml(`${label}: z${g.dims[0] + 1} × z${g.dims[1] + 1}${slice}`)}</text>`);
    const panels: [string, Float64Array][] = [
      ['p(z|x) ∝ p(x|z) p(z), on the grid', g.logPosterior],
      [Q_LABEL[g.qSource], g.logQ],
    ];
    panels.forEach(([name, dens], p) => {
      const x0 = left + p * (panel + gap);
      parts.push(`<image x="${x0}" y="${y0}" width="${panel}" height="${panel}" preserveAspectRatio="none" href="${heatmapUri(dens, n1, n2, max)}"/>`);
      parts.push(`<rect x="${x0}" y="${y0}" width="${panel}" height="${panel}" fill="none" stroke="#333"/>`);
      parts.push(`<text x="${x0 + panel / 2}" y="${y0 + 14}" text-anchor="middle" font-size="11" fill="white">${escapeXml(name)}</text>`);
      for (let k = 0; k < g.overlay.length / 2; k++) {
        const a = g.overlay[2 * k]!;
        const b = g.overlay[2 * k + 1]!;
        if (a < lo1 || a > hi1 || b < lo2 || b > hi2) continue;
        const px = x0 + ((a - lo1) / (hi1 - lo1)) * panel;
        const py = y0 + panel - ((b - lo2) / (hi2 - lo2)) * panel;
        parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="1.6" fill="white" fill-opacity="0.75"/>`);
      }
      const t1 = niceTicks(lo1, hi1, 4);
      for (const t of t1.ticks) {
        if (t < lo1 || t > hi1) continue;
        const px = x0 + ((t - lo1) / (hi1 - lo1)) * panel;
        parts.push(`<line x1="${px}" x2="${px}" y1="${y0 + panel}" y2="${y0 + panel + 4}" stroke="#333"/>`);
        parts.push(`<text x="${px}" y="${y0 + panel + 16}" text-anchor="middle" font-size="10">${fmt(t, Math.max(0, -Math.floor(Math.log10(t1.step))))}</text>`);
      }
      const t2 = niceTicks(lo2, hi2, 4);
      for (const t of t2.ticks) {
        if (t < lo2 || t > hi2) continue;
        const py = y0 + panel - ((t - lo2) / (hi2 - lo2)) * panel;
        parts.push(`<line x1="${x0 - 4}" x2="${x0}" y1="${py}" y2="${py}" stroke="#333"/>`);
        parts.push(`<text x="${x0 - 6}" y="${py + 3}" text-anchor="end" font-size="10">${fmt(t, Math.max(0, -Math.floor(Math.log10(t2.step))))}</text>`);
      }
      parts.push(`<text x="${x0 + panel / 2}" y="${y0 + panel + 30}" text-anchor="middle" font-size="11">z${g.dims[0] + 1}</text>`);
      parts.push(`<text x="${x0 - 34}" y="${y0 + panel / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${x0 - 34} ${y0 + panel / 2})">z${g.dims[1] + 1}</text>`);
    });
    // Colour bar.
    const bx = left + 2 * panel + gap + 30;
    const steps = 64;
    for (let s = 0; s < steps; s++) {
      const [cr, cg, cb] = viridis((s + 0.5) / steps);
      const h = panel / steps;
      parts.push(`<rect x="${bx}" y="${(y0 + panel - (s + 1) * h).toFixed(2)}" width="${barW}" height="${(h + 1).toFixed(2)}" fill="rgb(${cr},${cg},${cb})"/>`);
    }
    parts.push(`<rect x="${bx}" y="${y0}" width="${barW}" height="${panel}" fill="none" stroke="#333"/>`);
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const py = y0 + panel - f * panel;
      parts.push(`<text x="${bx + barW + 4}" y="${py + 3}" font-size="10">${fmt(f * max, max * f >= 10 ? 1 : max >= 1 ? 2 : 3)}</text>`);
    }
    parts.push(`<text x="${bx + barW / 2}" y="${y0 - 6}" text-anchor="middle" font-size="10">density</text>`);
    const pxLabel = g.latentDim === 2 ? 'grid log p(x)' : 'grid log ∫ p(x,z) over the slice';
    const inside = g.samplesInside < 0.995 ? `; ${fmt(100 * (1 - g.samplesInside), 0)} % of the samples fall outside the box` : '';
    const warn = g.paretoK > 0.7 ? ' (k̂ > 0.7: unreliable)' : '';
    parts.push(
      `<text x="${left}" y="${y0 + panel + 50}" font-size="12">${escapeXml(
        `ELBO ${fmt(g.elbo)} (mean log w, S = ${g.elboSamples})   log p̂(x) ${fmt(g.logPHat)} (K = ${g.samples})   ${pxLabel} ${fmt(g.gridLogPx)}`,
      )}</text>`,
      `<text x="${left}" y="${y0 + panel + 66}" font-size="11" fill="#444">${escapeXml(
        `importance weights: ESS ${fmt(g.ess, 1)} of ${g.samples}, Pareto k̂ ${fmt(g.paretoK)}${warn}${inside}`,
      )}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** `posteriorPlotSvg` rasterised to PNG bytes. */
export function renderPosteriorPlot(rows: readonly PosteriorPlotRow[], options: PosteriorPlotOptions = {}): Buffer {
  return svgToPng(posteriorPlotSvg(rows, options));
}

/** One panel of a picture grid: a density on a posterior grid's axes, with samples (optional). */
export interface DensityPanel {
  title: string;
  /** Log densities on `grid.axes`, row-major like `PosteriorGrid.logPosterior`. */
  logDensity: Float64Array;
  grid: PosteriorGrid;
  /** 2-D points `[n, 2]` drawn as white dots. */
  samples?: Float64Array;
  /** A line under the panel (e.g. "gap 0.71"). */
  caption?: string;
}

/**
 * A grid of density panels (rows of panels sharing one colour scale per row, which has its own
 * label), e.g. the true posterior of each model beside q(z|x) of each encoder × objective.
 */
export function densityPanelsSvg(rows: readonly { label: string; panels: readonly DensityPanel[] }[], { title, panel = 170 }: { title: string; panel?: number }): string {
  if (rows.length === 0 || rows.some((r) => r.panels.length === 0)) throw new Error('densityPanels: rows: expected at least one row of at least one panel');
  const cols = Math.max(...rows.map((r) => r.panels.length));
  const gapX = 14;
  const left = 20;
  const head = 46;
  const rowH = panel + 62;
  const width = left + cols * (panel + gapX) + 10;
  const height = head + rows.length * rowH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans" font-size="11">`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${width / 2}" y="38" text-anchor="middle" font-size="10" fill="#555">viridis: density, one scale per row (brightest = the row's highest density); white dots: samples of q</text>`,
  ];
  rows.forEach((row, r) => {
    const y0 = head + r * rowH + 18;
    parts.push(`<text x="${left}" y="${y0 - 6}" font-size="12" font-weight="bold">${escapeXml(row.label)}</text>`);
    let max = 0;
    for (const p of row.panels) for (const v of p.logDensity) max = Math.max(max, Math.exp(v));
    if (!(max > 0)) max = 1;
    row.panels.forEach((p, c) => {
      const g = p.grid;
      const n1 = g.axes[0].length;
      const n2 = g.axes[1].length;
      const h1 = g.axes[0][1]! - g.axes[0][0]!;
      const h2 = g.axes[1][1]! - g.axes[1][0]!;
      const lo1 = g.axes[0][0]! - h1 / 2;
      const hi1 = g.axes[0][n1 - 1]! + h1 / 2;
      const lo2 = g.axes[1][0]! - h2 / 2;
      const hi2 = g.axes[1][n2 - 1]! + h2 / 2;
      const x0 = left + c * (panel + gapX);
      parts.push(`<image x="${x0}" y="${y0 + 14}" width="${panel}" height="${panel}" preserveAspectRatio="none" href="${heatmapUri(p.logDensity, n1, n2, max)}"/>`);
      parts.push(`<rect x="${x0}" y="${y0 + 14}" width="${panel}" height="${panel}" fill="none" stroke="#333"/>`);
      parts.push(`<text x="${x0 + panel / 2}" y="${y0 + 10}" text-anchor="middle" font-size="10.5">${escapeXml(p.title)}</text>`);
      if (p.samples) {
        for (let k = 0; k < p.samples.length / 2; k++) {
          const a = p.samples[2 * k]!;
          const b = p.samples[2 * k + 1]!;
          if (a < lo1 || a > hi1 || b < lo2 || b > hi2) continue;
          parts.push(`<circle cx="${(x0 + ((a - lo1) / (hi1 - lo1)) * panel).toFixed(1)}" cy="${(y0 + 14 + panel - ((b - lo2) / (hi2 - lo2)) * panel).toFixed(1)}" r="1.2" fill="white" fill-opacity="0.7"/>`);
        }
      }
      parts.push(`<text x="${x0 + 2}" y="${y0 + 14 + panel + 11}" font-size="9" fill="#555">z₁ ${fmt(lo1, 1)}…${fmt(hi1, 1)}, z₂ ${fmt(lo2, 1)}…${fmt(hi2, 1)}</text>`);
      if (p.caption) parts.push(`<text x="${x0 + 2}" y="${y0 + 14 + panel + 24}" font-size="10">${escapeXml(p.caption)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** `densityPanelsSvg` rasterised to PNG bytes. */
export function renderDensityPanels(rows: readonly { label: string; panels: readonly DensityPanel[] }[], options: { title: string; panel?: number }): Buffer {
  return svgToPng(densityPanelsSvg(rows, options));
}
