import type { SpeedResult } from './types.js';

export const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');

/** A Markdown table: header cells, then rows; columns listed in `right` are right-aligned. */
export function mdTable(header: string[], rows: string[][], right: number[]): string[] {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), `|${header.map((_, i) => (right.includes(i) ? '---:' : '---')).join('|')}|`, ...rows.map(line), ''];
}

/** speed.md: the run's conditions, the step tables per backend and batch, IS throughput, the profile, the interleaved ratios and the targets. */
export function markdown(r: SpeedResult): string {
  const lines: string[] = [];
  lines.push('# vaekit speed benchmark', '');
  lines.push(`${r.date}, Node ${r.node}${r.quick ? ', **--quick budget (not for comparison)**' : ''}. Backends: ${r.backends.join(', ')}.`);
  lines.push(`Machine: ${r.machine.cores} cores, 1-minute load average ${fmt(r.machine.loadBefore, 2)} before and ${fmt(r.machine.loadAfter, 2)} after the run${r.machine.loadBefore > r.machine.cores / 2 || r.machine.loadAfter > r.machine.cores / 2 ? ' — **loaded: timings are disturbed; compare the interleaved ratios only**' : ''}.`);
  const p = r.pytorch;
  lines.push(p.available ? `PyTorch reference (bench/pytorch/vae_reference.py): torch ${p.torch}, ${p.threads} thread(s) for training steps unless a row says more, BLAS ${p.blas}.` : `PyTorch reference: not run — ${p.reason}.`);
  lines.push(`vaekit rows are on one kernel thread unless labelled "N kernel threads" (its products split over N threads, as it runs by default in a Node main thread: ${r.machine.kernelThreads} here).`);
  lines.push('784-200-200-50 tanh networks, Adam, ELBO with K = 1; a vaekit step is a step of `train()` over an in-memory data set (one epoch per timed block).');
  lines.push('ms/step: benchmark.js wall-clock mean ± relative margin of error (95 %). CPU ms/step: CPU time of the process per step (mean ± rme).');
  lines.push('"× hand" = hand-written / this, on CPU ms for wasm and cpu (single-threaded: equal to wall time on an idle machine, immune to other processes) and on wall ms for tensorflow.');
  lines.push('"matmul MMAC": millions of multiply-adds in the step\'s matrix products (forward and backward), counted from the kernel shapes of one profiled step.', '');
  for (const backend of r.backends) {
    for (const batch of [...new Set(r.steps.filter((s) => s.backend === backend).map((s) => s.batch))]) {
      lines.push(`## ${backend}, batch ${batch}`, '');
      lines.push(
        ...mdTable(
          ['encoder', 'likelihood', 'variant', 'ms/step', '± %', 'steps/s', 'CPU ms/step', '± %', '× hand', 'matmul MMAC', 'runs', 'tensors before → after'],
          r.steps
            .filter((q) => q.backend === backend && q.batch === batch)
            .map((s) => [
              s.encoder,
              s.likelihood,
              s.variant,
              fmt(s.msPerStep, 2),
              fmt(s.rme),
              fmt(s.stepsPerSecond),
              fmt(s.cpuMsPerStep, 2),
              fmt(s.cpuRme),
              s.speedupOverHand !== undefined ? fmt(s.speedupOverHand, 2) : '',
              s.matmulMacs !== undefined ? fmt(s.matmulMacs / 1e6) : '',
              String(s.samples),
              `${s.tensorsBefore} → ${s.tensorsAfter}`,
            ]),
          [3, 4, 5, 6, 7, 8, 9, 10],
        ),
      );
    }
  }
  if (r.evaluation.length) {
    lines.push('## Importance-sampled log-likelihood throughput', '');
    lines.push('log p̂(x) of a block of rows at K importance samples per row (chunks of 100 samples); blocks of the implementations interleaved. rows/s: median over blocks of wall-clock rows per second with a 95 % interval; CPU rows/s counts all threads of the process. vaekit on worker threads: the workers are started once (start-up shown) and each block is split into batches of 5 rows that the workers take as they finish one (as `estimateLogLikelihood` hands out its batches); "1 (N kernel threads)": vaekit in this thread with its kernels split over N threads, as `workers: \'auto\'` evaluates until workers pay off. GFLOP/s per core: the products\' arithmetic at the CPU-clock rate.', '');
    lines.push(
      ...mdTable(
        ['backend', 'encoder', 'likelihood', 'implementation', 'threads', 'K', 'rows per block', 'blocks', 'rows/s', '95 % interval', 'rows/s (CPU)', 'GFLOP/s per core', 'start-up s', 'tensors before → after'],
        r.evaluation.map((e) => [
          e.backend,
          e.encoder,
          e.likelihood,
          e.implementation,
          e.kernelThreads ? `${e.threads} (${e.kernelThreads} kernel threads)` : String(e.threads),
          String(e.samples),
          String(e.rows),
          String(e.blocks),
          fmt(e.rowsPerSecond, 2),
          `[${fmt(e.low, 2)}, ${fmt(e.high, 2)}]`,
          fmt(e.rowsPerCpuSecond, 2),
          e.gflops !== undefined ? fmt(e.gflops, 2) : '',
          e.startSeconds !== undefined ? fmt(e.startSeconds, 2) : '',
          `${e.tensorsBefore} → ${e.tensorsAfter}`,
        ]),
        [4, 5, 6, 7, 8, 10, 11, 12],
      ),
    );
  }
  lines.push(...backendsSideBySide(r));
  if (r.profile.length) {
    lines.push('## Where a step goes (gaussian/bernoulli, one kernel thread, CPU ms of this process, median)', '');
    lines.push('"rest of the step": a `train()` step minus the gradients (Adam, the batch upload, loss reads). GFLOP/s: the step\'s products over the whole step.', '');
    lines.push(
      ...mdTable(
        ['backend', 'batch', 'forward', 'backward', 'rest of the step', 'total', 'GFLOP/s'],
        r.profile.map((q) => [q.backend, String(q.batch), fmt(q.forward, 2), fmt(q.backward, 2), fmt(q.adam, 2), fmt(q.total, 2), fmt(q.gflops, 2)]),
        [1, 2, 3, 4, 5, 6],
      ),
    );
  }
  if (r.paired.length) {
    lines.push('## Ratios measured interleaved', '');
    lines.push('Blocks of ≈ 0.5 s of steps (or one block of rows) of A and of B alternate (ABBA…) after a warm-up, so a change in the machine\'s speed during the run affects both; ratio = A\'s ms per step (or row) / B\'s on the stated clock (CPU: both sides single-threaded; wall otherwise): the median over rounds with a 95 % interval from order statistics (the targets are checked on it), and the ratio of the two sides\' fastest blocks.', '');
    lines.push(
      ...mdTable(
        ['backend', 'batch / rows', 'A', 'B', 'A ms', 'B ms', 'A ÷ B, median', '95 % interval', 'A ÷ B, fastest blocks', 'clock', 'rounds', 'per block (A, B)'],
        r.paired.map((q) => [q.backend, String(q.batch), q.numerator, q.denominator, fmt(q.msA, 2), fmt(q.msB, 2), fmt(q.ratio, 2), `[${fmt(q.low, 2)}, ${fmt(q.high, 2)}]`, fmt(q.fastest, 2), q.clock, String(q.rounds), q.stepsPerBlock.join(', ')]),
        [1, 4, 5, 6, 8, 10],
      ),
    );
  }
  lines.push('## Targets', '');
  for (const c of r.checks) lines.push(`- ${c.ok ? 'PASS' : 'FAIL'} ${c.text}`);
  if (r.skipped.length) {
    lines.push('', '## Skipped', '');
    for (const s of r.skipped) lines.push(`- ${s}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The native backend beside wasm (issue 13): the gaussian and planar steps (Bernoulli decoder) and
 * the IS throughput per backend, wall ms (tensorflow threads its kernels; wasm runs one thread, so
 * its CPU ms are shown too). When tensorflow did not load, the section says it was not measured and why.
 */
export function backendsSideBySide(r: SpeedResult): string[] {
  const lines = ['## Backends side by side', ''];
  if (!r.backends.includes('tensorflow')) {
    const why = r.skipped.find((s) => s.startsWith('backend tensorflow'));
    lines.push(`tensorflow (tfjs-node): not measured${why ? ` — ${why.replace(/^backend tensorflow: /, '')}` : ' (not requested: --backend auto or tensorflow)'}.`, '');
    return lines;
  }
  const rows: string[][] = [];
  const batches = [...new Set(r.steps.map((s) => s.batch))].sort((a, b) => a - b);
  for (const encoder of ['gaussian', 'planar']) {
    for (const batch of batches) {
      const cells = r.backends.map((b) => r.steps.find((s) => s.backend === b && s.batch === batch && s.encoder === encoder && s.likelihood === 'bernoulli' && s.variant === 'vaekit'));
      if (cells.every((c) => !c)) continue;
      rows.push([`training step, ${encoder}/bernoulli, batch ${batch} (ms)`, ...cells.map((c) => (c ? `${fmt(c.msPerStep, 2)} (CPU ${fmt(c.cpuMsPerStep, 2)})` : '–'))]);
    }
    const evals = r.backends.map((b) => r.evaluation.filter((e) => e.backend === b && e.encoder === encoder && e.likelihood === 'bernoulli' && e.implementation === 'vaekit'));
    if (evals.some((e) => e.length)) {
      rows.push([`IS log p̂(x), ${encoder}/bernoulli (rows/s, by vaekit threads)`, ...evals.map((es) => es.map((e) => `${fmt(e.rowsPerSecond, 2)} (${e.threads})`).join(', ') || '–')]);
    }
  }
  lines.push('Wall ms per step (benchmark.js mean) with CPU ms of the process; measured one backend after the other in the same run.', '');
  lines.push(...mdTable(['work', ...r.backends], rows, r.backends.map((_, i) => i + 1)));
  return lines;
}
