/** Drawing for the demo page: density heatmaps and sample dots on a canvas, line charts in SVG, image grids. */

const SVG = 'http://www.w3.org/2000/svg';

/** Viridis-like ramp, t ∈ [0, 1] → rgb. */
function ramp(t: number): [number, number, number] {
  const stops: [number, number, number][] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const u = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(u));
  const f = u - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
}

export interface Box {
  x: readonly [number, number];
  y: readonly [number, number];
}

/**
 * Draws exp(logDensity) on a `size`×`size` grid (row-major [i₁·size + i₂], i₁ along z₁ = the
 * horizontal axis) scaled to its maximum, with optional sample dots (z₁, z₂ pairs) and a title.
 */
export function drawDensity(canvas: HTMLCanvasElement, logDensity: ArrayLike<number>, size: number, box: Box, title: string, samples?: ArrayLike<number>): void {
  const g = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  let max = -Infinity;
  for (let i = 0; i < logDensity.length; i++) if (logDensity[i]! > max) max = logDensity[i]!;
  const img = g.createImageData(size, size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const v = Math.exp(logDensity[i * size + j]! - max);
      const [r, gg, b] = ramp(Math.sqrt(v));
      // z₂ grows upwards.
      const o = 4 * ((size - 1 - j) * size + i);
      img.data[o] = r;
      img.data[o + 1] = gg;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }
  }
  const tmp = document.createElement('canvas');
  tmp.width = size;
  tmp.height = size;
  tmp.getContext('2d')!.putImageData(img, 0, 0);
  g.imageSmoothingEnabled = true;
  g.drawImage(tmp, 0, 0, w, h);
  if (samples) {
    g.fillStyle = 'rgba(255, 255, 255, 0.75)';
    for (let k = 0; k + 1 < samples.length; k += 2) {
      const px = ((samples[k]! - box.x[0]) / (box.x[1] - box.x[0])) * w;
      const py = h - ((samples[k + 1]! - box.y[0]) / (box.y[1] - box.y[0])) * h;
      if (px < 0 || px > w || py < 0 || py > h) continue;
      g.fillRect(px - 1, py - 1, 2.5, 2.5);
    }
  }
  g.fillStyle = 'rgba(0, 0, 0, 0.55)';
  g.fillRect(0, 0, w, 20);
  g.fillStyle = '#fff';
  g.font = '12px sans-serif';
  g.fillText(title, 6, 14);
  g.fillText(`z₁ ∈ [${box.x[0]}, ${box.x[1]}], z₂ ∈ [${box.y[0]}, ${box.y[1]}]`, 6, h - 6);
}

export interface Series {
  name: string;
  color: string;
  /** Values at `steps`; one value for a horizontal line. */
  values: readonly number[];
  dashed?: boolean;
}

/**
 * A line chart of `series` over training `steps` into `svg` (replacing its content). Each line
 * carries its numbers as `data-name`, `data-steps` and `data-values` (JSON), for reading off the page.
 */
export function drawChart(svg: SVGSVGElement, steps: readonly number[], series: readonly Series[], yLabel: string): void {
  const w = Number(svg.getAttribute('width'));
  const h = Number(svg.getAttribute('height'));
  const pad = { l: 56, r: 190, t: 12, b: 32 };
  svg.replaceChildren();
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  if (all.length === 0 || steps.length === 0) return;
  // The view starts at the lowest of the latest values minus a margin (early values may be far below).
  const latest = series.map((s) => s.values.at(-1)!).filter(Number.isFinite);
  const hi = Math.max(...all);
  const lo = Math.max(Math.min(...all), Math.min(...latest) - 3 * Math.max(0.5, hi - Math.min(...latest)));
  const span = hi - lo || 1;
  const x0 = steps[0]!;
  const x1 = Math.max(steps.at(-1)!, x0 + 1);
  const sx = (v: number) => pad.l + ((w - pad.l - pad.r) * (v - x0)) / (x1 - x0);
  const sy = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - (Math.max(v, lo - 0.05 * span) - lo) / (span * 1.05));
  const el = (name: string, attrs: Record<string, string | number>, text?: string) => {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  };
  el('rect', { x: pad.l, y: pad.t, width: w - pad.l - pad.r, height: h - pad.t - pad.b, fill: '#fafafa', stroke: '#ccc' });
  for (let k = 0; k <= 4; k++) {
    const v = lo + (span * 1.05 * k) / 4;
    el('text', { x: pad.l - 6, y: sy(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#555' }, v.toFixed(2));
    el('line', { x1: pad.l, x2: w - pad.r, y1: sy(v), y2: sy(v), stroke: '#eee' });
  }
  el('text', { x: pad.l, y: h - 8, 'font-size': 11, fill: '#555' }, `step ${x0}`);
  el('text', { x: w - pad.r, y: h - 8, 'text-anchor': 'end', 'font-size': 11, fill: '#555' }, `step ${steps.at(-1)}`);
  el('text', { x: 12, y: pad.t + (h - pad.t - pad.b) / 2, 'font-size': 11, fill: '#555', transform: `rotate(-90 12 ${pad.t + (h - pad.t - pad.b) / 2})`, 'text-anchor': 'middle' }, yLabel);
  series.forEach((s, i) => {
    const pts = s.values.length === 1 ? [`${sx(x0)},${sy(s.values[0]!)}`, `${sx(x1)},${sy(s.values[0]!)}`] : s.values.map((v, k) => `${sx(steps[k]!)},${sy(v)}`);
    el('polyline', {
      points: pts.join(' '),
      fill: 'none',
      stroke: s.color,
      'stroke-width': 2,
      ...(s.dashed ? { 'stroke-dasharray': '6 4' } : {}),
      'data-name': s.name,
      'data-steps': JSON.stringify(s.values.length === 1 ? [] : steps),
      'data-values': JSON.stringify(s.values),
    });
    const ly = pad.t + 14 + 18 * i;
    el('line', { x1: w - pad.r + 10, x2: w - pad.r + 30, y1: ly - 4, y2: ly - 4, stroke: s.color, 'stroke-width': 2, ...(s.dashed ? { 'stroke-dasharray': '6 4' } : {}) });
    el('text', { x: w - pad.r + 36, y: ly, 'font-size': 12, fill: '#222' }, `${s.name} ${s.values.at(-1)!.toFixed(3)}`);
  });
}

/** Draws `count` grey images of `width`×`height` (values in [0, 1], row-major, concatenated) in a grid of `cols` columns, `scale` pixels per pixel. */
export function drawImages(canvas: HTMLCanvasElement, pixels: ArrayLike<number>, count: number, width: number, height: number, cols: number, scale = 2): void {
  const rows = Math.ceil(count / cols);
  const gap = 2;
  canvas.width = cols * (width * scale + gap) + gap;
  canvas.height = rows * (height * scale + gap) + gap;
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#888';
  g.fillRect(0, 0, canvas.width, canvas.height);
  const img = g.createImageData(width, height);
  const tmp = document.createElement('canvas');
  tmp.width = width;
  tmp.height = height;
  const t = tmp.getContext('2d')!;
  g.imageSmoothingEnabled = false;
  for (let n = 0; n < count; n++) {
    for (let p = 0; p < width * height; p++) {
      const v = Math.round(255 * (1 - Math.min(1, Math.max(0, pixels[n * width * height + p]!))));
      img.data.set([v, v, v, 255], 4 * p);
    }
    t.putImageData(img, 0, 0);
    g.drawImage(tmp, gap + (n % cols) * (width * scale + gap), gap + Math.floor(n / cols) * (height * scale + gap), width * scale, height * scale);
  }
}
