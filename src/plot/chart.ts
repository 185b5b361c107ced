import { existsSync } from 'node:fs';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';

/** One point: `[x, y]` or `[x, y, ±err]` (an error bar of half-length err). x may be a category name. */
export type ChartPoint = readonly [x: number | string, y: number, err?: number];

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** CSS colour; a palette colour by default. */
  color?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  /** `line` (points joined), `points` (markers only) or `bars` (grouped by x). Default `line`. */
  kind?: 'line' | 'points' | 'bars';
  /** `log` draws x on a log10 axis (x > 0), e.g. the K of IWAE_K. Default `linear`. */
  xScale?: 'linear' | 'log';
  /** Force the y range (otherwise fitted to the data, with 0 included for bars). */
  yRange?: readonly [number, number];
  /** Pixels (default 800 × 500). */
  width?: number;
  height?: number;
  /** A line of small text under the title. */
  subtitle?: string;
  /** Show the legend (default: when there is more than one series, or for bars). */
  legend?: boolean;
}

/** Tableau 10: distinguishable colours, readable on white. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => `${FONT_DIR}/${f}`);

/** resvg font options: DejaVu Sans from the Debian package fonts-dejavu-core, else the system fonts. */
export function fontOptions(): NonNullable<ResvgRenderOptions['font']> {
  if (FONT_FILES.every((f) => existsSync(f))) {
    return { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' };
  }
  return { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' };
}

/** Rasterises an SVG document to PNG bytes (white background). */
export function svgToPng(svg: string): Buffer {
  const r = new Resvg(svg, { font: fontOptions(), background: 'white', shapeRendering: 2, textRendering: 1 });
  return Buffer.from(r.render().asPng());
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" step (1, 2 or 5 × 10^k) giving about `count` intervals over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
}

/** Ticks covering [lo, hi] at a nice step, and the range widened to the outer ticks. */
export function niceTicks(lo: number, hi: number, count = 6): { ticks: number[]; lo: number; hi: number; step: number } {
  if (!(hi > lo)) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const step = niceStep(hi - lo, count);
  const a = Math.floor(lo / step + 1e-9) * step;
  const b = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = a; v <= b + step * 1e-6; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { ticks, lo: a, hi: b, step };
}

function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1e6 || abs < 1e-4) return v.toExponential(1).replace('e+', 'e');
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(decimals, 6)).replace('-', '−');
}

/** A number for a log axis label: 1, 10, 100, 1k, 10k, … */
function formatLogTick(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}

function checkOptions(o: ChartOptions): void {
  if (!o.series || o.series.length === 0) {
    throw new Error(`renderChart: series: expected at least one series; got ${JSON.stringify(o.series)}`);
  }
  if (o.kind !== undefined && !['line', 'points', 'bars'].includes(o.kind)) {
    throw new Error(`renderChart: kind: expected "line", "points" or "bars"; got ${JSON.stringify(o.kind)}`);
  }
  const anyPoint = o.series.some((s) => s.points.some((p) => Number.isFinite(p[1])));
  if (!anyPoint) throw new Error('renderChart: series: expected at least one point with a finite y value; got none');
  if (o.xScale === 'log') {
    for (const s of o.series) {
      for (const p of s.points) {
        if (typeof p[0] !== 'number' || !(p[0] > 0)) {
          throw new Error(`renderChart: series "${s.name}": a log x axis needs x > 0; got ${JSON.stringify(p[0])}`);
        }
      }
    }
  }
}

/**
 * A chart as an SVG document: title, axes with nice ticks and labels, one series per colour
 * with a legend, optional error bars (`[x, y, err]`). x values that are strings make a
 * categorical axis (in order of first appearance). Non-finite y values are left out.
 */
export function chartSvg(o: ChartOptions): string {
  checkOptions(o);
  const kind = o.kind ?? 'line';
  const width = o.width ?? 800;
  const height = o.height ?? 500;
  const series = o.series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length]!,
    points: s.points.filter((p) => Number.isFinite(p[1]) && (typeof p[0] === 'string' || Number.isFinite(p[0]))),
  }));
  const categorical = kind === 'bars' || series.some((s) => s.points.some((p) => typeof p[0] === 'string'));
  const categories: string[] = [];
  if (categorical) {
    for (const s of series) for (const p of s.points) if (!categories.includes(String(p[0]))) categories.push(String(p[0]));
  }

  // y domain (with error bars; bars include 0 so their lengths mean something).
  let yLo = Infinity;
  let yHi = -Infinity;
  for (const s of series) {
    for (const p of s.points) {
      const e = Number.isFinite(p[2]) ? Math.abs(p[2]!) : 0;
      yLo = Math.min(yLo, p[1] - e);
      yHi = Math.max(yHi, p[1] + e);
    }
  }
  if (kind === 'bars') {
    yLo = Math.min(yLo, 0);
    yHi = Math.max(yHi, 0);
  } else if (yHi > yLo) {
    const pad = (yHi - yLo) * 0.05;
    yLo -= pad;
    yHi += pad;
  }
  if (o.yRange) [yLo, yHi] = o.yRange;
  const yAxis = niceTicks(yLo, yHi);
  if (o.yRange) {
    yAxis.lo = o.yRange[0];
    yAxis.hi = o.yRange[1];
    yAxis.ticks = yAxis.ticks.filter((t) => t >= yAxis.lo - 1e-12 && t <= yAxis.hi + 1e-12);
  }

  // Layout: title (+ subtitle) on top, legend on the right when there is more than one series.
  const legend = o.legend ?? (series.length > 1 || kind === 'bars');
  const longestName = Math.max(...series.map((s) => s.name.length));
  const legendWidth = legend ? Math.min(260, 40 + longestName * 7.5) : 0;
  // Legend names wrap at word boundaries to the legend's width (never cut).
  const legendLines = series.map((s) => wrapText(s.name, Math.max(8, Math.floor((legendWidth - 40) / 7.2))));
  const yTickLabels = yAxis.ticks.map((t) => formatTick(t, yAxis.step));
  const yTickWidth = Math.max(...yTickLabels.map((l) => l.length)) * 7.5;
  const top = o.subtitle ? 70 : 52;
  const left = 30 + yTickWidth + 14;
  const right = 20 + legendWidth;
  const bottom = 62;
  const pw = width - left - right;
  const ph = height - top - bottom;
  const sy = (v: number) => top + ph - ((v - yAxis.lo) / (yAxis.hi - yAxis.lo)) * ph;

  let sx: (x: number | string) => number;
  let xTicks: { at: number; label: string }[];
  let band = 0;
  // Markers at the ends of a numeric axis stay whole: the axis starts `inset` pixels inside the frame.
  const inset = 12;
  if (categorical) {
    band = pw / categories.length;
    sx = (x) => left + band * (categories.indexOf(String(x)) + 0.5);
    xTicks = categories.map((c) => ({ at: sx(c), label: c }));
  } else if (o.xScale === 'log') {
    const xs = series.flatMap((s) => s.points.map((p) => p[0] as number));
    const a = Math.floor(Math.log10(Math.min(...xs)) + 1e-9);
    const b = Math.max(a + 1, Math.ceil(Math.log10(Math.max(...xs)) - 1e-9));
    sx = (x) => left + inset + ((Math.log10(x as number) - a) / (b - a)) * (pw - 2 * inset);
    xTicks = [];
    for (let e = a; e <= b; e++) xTicks.push({ at: sx(10 ** e), label: formatLogTick(10 ** e) });
  } else {
    const xs = series.flatMap((s) => s.points.map((p) => p[0] as number));
    const xAxis = niceTicks(Math.min(...xs), Math.max(...xs), 8);
    if (xs.every((x) => Number.isInteger(x)) && xAxis.step < 1) {
      // Integer x (epochs, steps): no fractional ticks.
      const lo = Math.min(...xs);
      const hi = Math.max(lo + 1, Math.max(...xs));
      Object.assign(xAxis, { lo, hi, step: 1, ticks: Array.from({ length: hi - lo + 1 }, (_, i) => lo + i) });
    }
    sx = (x) => left + inset + (((x as number) - xAxis.lo) / (xAxis.hi - xAxis.lo)) * (pw - 2 * inset);
    xTicks = xAxis.ticks.map((t) => ({ at: sx(t), label: formatTick(t, xAxis.step) }));
  }

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="30" font-size="18" font-weight="bold" text-anchor="middle">${escapeXml(o.title)}</text>`,
  );
  if (o.subtitle) out.push(`<text x="${width / 2}" y="52" font-size="12" fill="#555" text-anchor="middle">${escapeXml(o.subtitle)}</text>`);

  // Grid and y ticks.
  yAxis.ticks.forEach((t, i) => {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${left}" y1="${y}" x2="${left + pw}" y2="${y}" stroke="#e4e4e4" stroke-width="1"/>`);
    out.push(`<text x="${left - 8}" y="${y}" font-size="12" text-anchor="end" dominant-baseline="middle">${escapeXml(yTickLabels[i]!)}</text>`);
  });
  // x ticks (thin out labels that would overlap).
  const maxLabel = Math.max(...xTicks.map((t) => t.label.length)) * 7 + 8;
  const every = Math.max(1, Math.ceil((maxLabel * xTicks.length) / pw));
  xTicks.forEach((t, i) => {
    const x = t.at.toFixed(1);
    if (!categorical) out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${top + ph}" stroke="#f0f0f0" stroke-width="1"/>`);
    out.push(`<line x1="${x}" y1="${top + ph}" x2="${x}" y2="${top + ph + 5}" stroke="#333"/>`);
    if (i % every === 0) out.push(`<text x="${x}" y="${top + ph + 20}" font-size="12" text-anchor="middle">${escapeXml(t.label)}</text>`);
  });
  // Axes.
  out.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#333" stroke-width="1"/>`);
  if (kind === 'bars' && yAxis.lo < 0 && yAxis.hi > 0) {
    out.push(`<line x1="${left}" y1="${sy(0).toFixed(1)}" x2="${left + pw}" y2="${sy(0).toFixed(1)}" stroke="#333" stroke-width="1"/>`);
  }
  out.push(`<text x="${left + pw / 2}" y="${height - 16}" font-size="14" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  out.push(
    `<text x="18" y="${top + ph / 2}" font-size="14" text-anchor="middle" transform="rotate(-90 18 ${top + ph / 2})">${escapeXml(o.yLabel)}</text>`,
  );

  // Data, clipped to the plot area.
  out.push(`<clipPath id="plot"><rect x="${left}" y="${top}" width="${pw}" height="${ph}"/></clipPath><g clip-path="url(#plot)">`);
  const errBar = (x: number, y: number, e: number | undefined, color: string) => {
    if (!Number.isFinite(e) || !e) return;
    const y1 = sy(y - Math.abs(e!)).toFixed(1);
    const y2 = sy(y + Math.abs(e!)).toFixed(1);
    out.push(`<line x1="${x.toFixed(1)}" y1="${y1}" x2="${x.toFixed(1)}" y2="${y2}" stroke="${color}" stroke-width="1.5"/>`);
    for (const yy of [y1, y2]) out.push(`<line x1="${(x - 4).toFixed(1)}" y1="${yy}" x2="${(x + 4).toFixed(1)}" y2="${yy}" stroke="${color}" stroke-width="1.5"/>`);
  };
  if (kind === 'bars') {
    const n = series.length;
    const groupWidth = band * 0.8;
    const bw = groupWidth / n;
    const base = sy(Math.min(Math.max(0, yAxis.lo), yAxis.hi));
    series.forEach((s, i) => {
      for (const p of s.points) {
        const x0 = sx(p[0]) - groupWidth / 2 + i * bw;
        const y = sy(p[1]);
        out.push(
          `<rect x="${(x0 + 1).toFixed(1)}" y="${Math.min(y, base).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${Math.abs(base - y).toFixed(1)}" fill="${s.color}"/>`,
        );
        errBar(x0 + bw / 2, p[1], p[2], '#333');
      }
    });
  } else {
    // Markers only: the series that share an x are spread side by side around it (dodged), so a
    // series with the same value as another (IWAE_K and log p̂(x) at large K) is not hidden under it.
    const shared = kind === 'points' && series.length > 1 && sharesX(series);
    const spacing = shared ? Math.min(14, ((categorical ? band * 0.7 : pw / Math.max(2, distinctX(series))) * 0.8) / series.length) : 0;
    series.forEach((s, i) => {
      const dx = shared ? (i - (series.length - 1) / 2) * spacing : 0;
      const pts = categorical ? s.points : [...s.points].sort((a, b) => (a[0] as number) - (b[0] as number));
      if (kind === 'line' && pts.length > 1) {
        const d = pts.map((p, i) => `${i ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
        out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.5" stroke-linejoin="round"/>`);
      }
      for (const p of pts) {
        errBar(sx(p[0]) + dx, p[1], p[2], s.color);
        const r = kind === 'points' ? 4.5 : pts.length > 60 ? 0 : 3.5;
        if (r > 0) out.push(`<circle cx="${(sx(p[0]) + dx).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="${r}" fill="${s.color}" stroke="white" stroke-width="1"/>`);
      }
    });
  }
  out.push('</g>');

  if (legend) {
    const lx = left + pw + 16;
    let ly = top + 8;
    series.forEach((s, i) => {
      if (kind === 'line') out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${s.color}" stroke-width="3"/>`);
      else out.push(`<rect x="${lx + 4}" y="${ly - 6}" width="12" height="12" fill="${s.color}"/>`);
      legendLines[i]!.forEach((line, j) => {
        out.push(`<text x="${lx + 28}" y="${ly + j * 15}" font-size="12" dominant-baseline="middle">${escapeXml(line)}</text>`);
      });
      ly += 22 + (legendLines[i]!.length - 1) * 15;
    });
  }
  out.push('</svg>');
  return out.join('\n');
}

/** Whether two series have a point at the same x. */
function sharesX(series: readonly { points: readonly ChartPoint[] }[]): boolean {
  const seen = new Set<string>();
  for (const s of series) {
    const mine = new Set(s.points.map((p) => String(p[0])));
    for (const x of mine) {
      if (seen.has(x)) return true;
    }
    for (const x of mine) seen.add(x);
  }
  return false;
}

function distinctX(series: readonly { points: readonly ChartPoint[] }[]): number {
  return new Set(series.flatMap((s) => s.points.map((p) => String(p[0])))).size;
}

/** Splits text into lines of at most `width` characters at spaces (a longer word gets a line of its own). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/[ \t\n]+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/**
 * A chart as PNG bytes: `renderChart({ title, xLabel, yLabel, series: [{ name, points: [[x, y], …] }], kind })`.
 * Drawn as SVG (see `chartSvg`) and rasterised with resvg, text in DejaVu Sans.
 */
export function renderChart(options: ChartOptions): Buffer {
  return svgToPng(chartSvg(options));
}
