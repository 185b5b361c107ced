/**
 * The bound explorer view: settings form → `runExplorer`, drawing after each measurement the true
 * posterior p(z|x) and q(z|x) with its samples for the chosen x (`posteriorGrid`), the bounds of
 * every x in a table, and the chosen x's ELBO, IWAE_K, log p̂(x) and exact log p(x) over the steps.
 * Every number shown is also in a data- attribute (`#metrics tr`, `#bound-chart polyline`,
 * `#explorer-status`), which the browser test reads.
 */
import { QUADRATURE_KINDS, posteriorGrid, tf, type QuadratureKind } from 'vaekit';
import { CASES, DEFAULT_SETTINGS, ENCODERS, OBJECTIVES, StopRun, runExplorer, type ExplorerRun, type ExplorerSettings } from './explorer-run.js';
import { drawChart, drawDensity } from './plots.js';

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;

function fillSelect(select: HTMLSelectElement, options: Record<string, string>, value: string): void {
  select.replaceChildren(...Object.entries(options).map(([v, label]) => new Option(label, v, false, v === value)));
}

function readSettings(form: HTMLFormElement): ExplorerSettings {
  const f = new FormData(form);
  const num = (name: string, min: number) => {
    const raw = String(f.get(name));
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min) throw new Error(`${name}: expected a number ≥ ${min}; got ${JSON.stringify(raw)}`);
    return v;
  };
  return {
    kind: String(f.get('kind')) as QuadratureKind,
    sigma: num('sigma', 0.01),
    encoder: String(f.get('encoder')),
    objective: String(f.get('objective')),
    samples: Math.round(num('samples', 1)),
    gradient: String(f.get('gradient') ?? 'reparam'),
    steps: Math.round(num('steps', 1)),
    learningRate: num('learningRate', 1e-6),
    every: Math.round(num('every', 1)),
    seed: Math.round(num('seed', 0)),
  };
}

export function setUpExplorer(): void {
  const form = $<HTMLFormElement>('#explorer-form');
  const status = $<HTMLElement>('#explorer-status');
  const stop = $<HTMLButtonElement>('#stop');
  const trainButton = $<HTMLButtonElement>('#train');
  const els = form.elements as unknown as Record<string, HTMLSelectElement & HTMLInputElement>;
  fillSelect(els.kind!, Object.fromEntries(QUADRATURE_KINDS.map((k) => [k, k])), DEFAULT_SETTINGS.kind);
  fillSelect(els.encoder!, Object.fromEntries(Object.entries(ENCODERS).map(([k, v]) => [k, v.label])), DEFAULT_SETTINGS.encoder);
  const syncChoices = () => {
    const mixture = els.encoder!.value === 'mixture';
    const current = els.objective!.value || DEFAULT_SETTINGS.objective;
    const allowed = Object.entries(OBJECTIVES).filter(([, o]) => mixture || !o.mixtureOnly);
    fillSelect(els.objective!, Object.fromEntries(allowed.map(([k, o]) => [k, o.label])), allowed.some(([k]) => k === current) ? current : 'elbo');
    const grads = OBJECTIVES[els.objective!.value]!.gradients;
    const g = els.gradient!.value || 'reparam';
    fillSelect(els.gradient!, Object.fromEntries((grads.length ? grads : ['reparam']).map((k) => [k, k])), grads.includes(g) ? g : 'reparam');
    els.gradient!.disabled = grads.length === 0;
  };
  els.encoder!.addEventListener('change', syncChoices);
  els.objective!.addEventListener('change', syncChoices);
  syncChoices();

  let selected = 0;
  let latest: ExplorerRun | null = null;
  let stopRequested = false;
  let training = false;
  let drawing = Promise.resolve();

  const drawPosterior = async (run: ExplorerRun) => {
    const box = CASES[run.settings.kind].box;
    const saved = run.vae.random.getState();
    try {
      const g = await posteriorGrid(run.vae, [run.xs[selected]!], { size: 72, box: [box.x, box.y], overlaySamples: 300, kdeSamples: 800, samples: 200, seed: 7 });
      drawDensity($('#true-posterior'), g.logPosterior, 72, box, `true p(z|x), x = ${run.xs[selected]}`);
      drawDensity($('#q-posterior'), g.logQ, 72, box, `q(z|x) (${g.qSource}) + samples, step ${run.steps}`, g.overlay);
    } finally {
      run.vae.random.setState(saved);
    }
  };

  const drawNumbers = (run: ExplorerRun) => {
    const m = run.history.at(-1)!;
    $('#iwae-head').textContent = `IWAE_${run.iwaeK}`;
    const body = $<HTMLTableSectionElement>('#metrics tbody');
    body.replaceChildren(
      ...run.xs.map((x, b) => {
        const tr = document.createElement('tr');
        const gap = run.exactLogPx[b]! - m.elbo[b]!;
        const values = { x, exact: run.exactLogPx[b]!, elbo: m.elbo[b]!, iwae: m.iwae[b]!, logphat: m.logPHat[b]!, gap };
        for (const [k, v] of Object.entries(values)) {
          tr.dataset[k] = String(v);
          const td = document.createElement('td');
          td.textContent = k === 'x' ? String(v) : v.toFixed(3);
          tr.appendChild(td);
        }
        tr.dataset.step = String(m.step);
        if (b === selected) tr.classList.add('selected');
        return tr;
      }),
    );
    const steps = run.history.map((h) => h.step);
    drawChart($('#bound-chart'), steps, [
      { name: 'exact log p(x)', color: '#222', values: [run.exactLogPx[selected]!], dashed: true },
      { name: 'log p̂(x)', color: '#2ca02c', values: run.history.map((h) => h.logPHat[selected]!) },
      { name: `IWAE_${run.iwaeK}`, color: '#ff7f0e', values: run.history.map((h) => h.iwae[selected]!) },
      { name: 'ELBO', color: '#1f77b4', values: run.history.map((h) => h.elbo[selected]!) },
    ], `nats, x = ${run.xs[selected]}`);
  };

  const drawAll = async (run: ExplorerRun) => {
    drawNumbers(run);
    await drawPosterior(run);
  };

  // While training, the next measurement draws the chosen x (drawing draws from the model's
  // random stream, which must not interleave with a training step's).
  const choose = (b: number) => {
    selected = b;
    const run = latest;
    if (run && !training) drawing = drawing.then(() => drawAll(run)).catch(() => undefined);
  };
  const xChoice = $<HTMLElement>('#x-choice');
  const showChoices = (xs: readonly number[]) => {
    xChoice.replaceChildren(
      document.createTextNode('observed x: '),
      ...xs.map((x, b) => {
        const label = document.createElement('label');
        label.className = 'inline';
        const input = document.createElement('input');
        input.type = 'radio';
        input.name = 'x';
        input.value = String(b);
        input.checked = b === selected;
        input.addEventListener('change', () => choose(b));
        label.append(input, ` ${x}`);
        return label;
      }),
    );
  };
  els.kind!.addEventListener('change', () => {
    selected = 0;
    showChoices(CASES[els.kind!.value as QuadratureKind].xs);
  });
  showChoices(CASES[DEFAULT_SETTINGS.kind].xs);

  stop.addEventListener('click', () => {
    stopRequested = true;
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void (async () => {
      let settings: ExplorerSettings;
      try {
        settings = readSettings(form);
      } catch (e) {
        status.dataset.state = 'error';
        status.textContent = (e as Error).message;
        return;
      }
      latest?.vae.dispose();
      latest = null;
      stopRequested = false;
      training = true;
      trainButton.disabled = true;
      stop.disabled = false;
      status.dataset.state = 'training';
      status.textContent = 'building the model…';
      const t0 = performance.now();
      try {
        const run = await runExplorer(settings, async (r) => {
          latest = r;
          const rate = r.trainSeconds > 0 ? r.steps / r.trainSeconds : 0;
          status.dataset.step = String(r.steps);
          status.dataset.stepsPerSecond = rate.toFixed(2);
          status.textContent = `training on ${tf.getBackend()}: step ${r.steps} / ${settings.steps}, ${rate.toFixed(1)} steps/s`;
          await drawAll(r);
          // Let the page paint (and the Stop button be clicked) between measurements.
          await new Promise((ok) => setTimeout(ok, 0));
          if (stopRequested) throw new StopRun();
        });
        latest = run;
        const rate = run.steps / run.trainSeconds;
        status.dataset.step = String(run.steps);
        status.dataset.stepsPerSecond = rate.toFixed(2);
        status.dataset.trainSeconds = run.trainSeconds.toFixed(3);
        status.dataset.state = 'done';
        status.textContent = `${stopRequested ? 'stopped' : 'done'} on ${tf.getBackend()}: ${run.steps} steps, ${rate.toFixed(1)} steps/s (training only; ${((performance.now() - t0) / 1000).toFixed(1)} s in all)`;
      } catch (e) {
        status.dataset.state = 'error';
        status.textContent = e instanceof Error ? e.message : String(e);
      } finally {
        training = false;
        trainButton.disabled = false;
        stop.disabled = true;
      }
    })();
  });
}
