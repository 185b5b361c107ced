/**
 * The saved-model view: `loadSavedModelFromUrl` on the URL given, then 64 samples (mean of
 * p(x|z), z ~ p(z)), reconstructions of the shipped MNIST test images (mean of p(x|z), z ~ q(z|x),
 * one draw) and `boundReport` on those images binarised at ½. Status, sample count and the report's
 * numbers are also data- attributes (`#saved-status`, `#report tr`) for the browser test.
 */
import { boundReport, loadSavedModelFromUrl, tf, type BoundReport, type Vae } from 'vaekit';
import { drawImages } from './plots.js';

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;

interface TestImages {
  rows: number;
  dim: number;
  width: number;
  height: number;
  /** Intensities 0–255, row-major. */
  x: number[];
}

const TEST_IMAGES_URL = './example/mnist-test.json';

function imageShape(dim: number): [number, number] | null {
  const side = Math.round(Math.sqrt(dim));
  return side * side === dim ? [side, side] : null;
}

function reportRows(r: BoundReport): [string, string, number][] {
  return [
    ['elbo', `ELBO (S = ${r.elboSamples})`, r.elbo.mean],
    ['reconstruction', 'E_q log p(x|z)', r.reconstruction.mean],
    ['kl', `KL(q ‖ p(z))${r.klExact ? ' (closed form)' : ''}`, r.kl.mean],
    ...r.iwae.map((e): [string, string, number] => [`iwae-${e.samples}`, `IWAE_${e.samples}`, e.mean]),
    ['logphat', `log p̂(x) (K = ${r.samples})`, r.logLikelihood.mean],
    ['gap', 'log p̂(x) − ELBO', r.gap.mean],
  ];
}

export function setUpSavedModelView(): void {
  const form = $<HTMLFormElement>('#saved-form');
  const status = $<HTMLElement>('#saved-status');
  let vae: Vae | null = null;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void (async () => {
      const url = new URL(String(new FormData(form).get('url')), window.location.href).href;
      status.dataset.state = 'loading';
      status.textContent = `loading ${url} …`;
      vae?.dispose();
      vae = null;
      try {
        const loaded = await loadSavedModelFromUrl(url);
        vae = loaded.vae;
        const spec = loaded.config.model;
        const dim = vae.dataDim;
        const shape = imageShape(dim);
        status.dataset.dataDim = String(dim);
        status.textContent = `loaded ${loaded.url}: encoder ${spec.encoder.type}, latentDim ${spec.latentDim}, likelihood ${spec.likelihood.type}; drawing…`;

        const n = 64;
        const samples = tf.tidy(() => vae!.likelihood.mean(vae!.prior.sample(n).reshape([n, 1, spec.latentDim]) as tf.Tensor3D).reshape([n, dim]));
        const pixels = await samples.data();
        samples.dispose();
        if (shape) drawImages($('#samples'), pixels, n, shape[1], shape[0], 8, 2);
        status.dataset.samples = String(n);
        status.dataset.samplesFinite = String(pixels.every(Number.isFinite));

        const res = await fetch(new URL(TEST_IMAGES_URL, window.location.href));
        const test = res.ok ? ((await res.json()) as TestImages) : null;
        const body = $<HTMLTableSectionElement>('#report tbody');
        body.replaceChildren();
        if (test && test.dim === dim) {
          const rows = Math.min(test.rows, 16);
          const x = tf.tidy(() => tf.step(tf.sub(tf.tensor2d(test.x.slice(0, rows * dim), [rows, dim]), 127.5)) as tf.Tensor2D);
          const recon = tf.tidy(() => vae!.likelihood.mean(vae!.encoder.sample(x, 1).z).reshape([rows, dim]));
          const [xs, rs] = [await x.data(), await recon.data()];
          recon.dispose();
          const both = new Float32Array(2 * rows * dim);
          for (let r = 0; r < rows; r++) {
            const row = Math.floor(r / 8) * 16 + (r % 8);
            both.set(xs.subarray(r * dim, (r + 1) * dim), row * dim);
            both.set(rs.subarray(r * dim, (r + 1) * dim), (row + 8) * dim);
          }
          if (shape) drawImages($('#reconstructions'), both, 2 * rows, shape[1], shape[0], 8, 2);
          status.dataset.reconstructions = String(rows);
          status.textContent = `loaded ${loaded.url}; computing the bound report on ${rows} test images…`;
          await new Promise((ok) => setTimeout(ok, 0));
          const report = await boundReport(vae, x, { elboSamples: 20, iwaeSamples: [1, 10, 100], samples: 500, seed: 1, progress: false });
          x.dispose();
          body.replaceChildren(
            ...reportRows(report).map(([key, label, v]) => {
              const tr = document.createElement('tr');
              tr.dataset.key = key;
              tr.dataset.value = String(v);
              tr.append(Object.assign(document.createElement('th'), { textContent: label }), Object.assign(document.createElement('td'), { textContent: v.toFixed(2) }));
              return tr;
            }),
            Object.assign(document.createElement('tr'), { innerHTML: `<td colspan="2" class="note">nats per image, ${report.rows} MNIST test images binarised at ½</td>` }),
          );
        } else {
          status.dataset.reconstructions = '0';
        }
        status.dataset.state = 'loaded';
        status.textContent = `loaded ${loaded.url}: encoder ${spec.encoder.type}, latentDim ${spec.latentDim}, likelihood ${spec.likelihood.type}, ${dim} pixels${shape ? '' : ' (not a square image: no pictures)'}`;
      } catch (e) {
        status.dataset.state = 'error';
        status.textContent = e instanceof Error ? e.message : String(e);
      }
    })();
  });
}
