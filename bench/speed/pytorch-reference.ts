import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PytorchInfo } from './types.js';
import type { BlockTime, Stepper } from './steppers.js';

/** The project's PyTorch implementation of the benched VAE (bench/pytorch/vae_reference.py). */
export const REFERENCE_SCRIPT = fileURLToPath(new URL('../pytorch/vae_reference.py', import.meta.url));
/** Debian's interpreter, which `apt-get install python3-torch libopenblas0-pthread` provides torch for. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/**
 * The environment PyTorch is measured in, at its best: OpenBLAS picks its own kernels for this CPU
 * (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed), glibc keeps freed memory for reuse instead of
 * unmapping and trimming it after every step (mmap threshold at its 32 MiB maximum, trim
 * threshold 1 GiB); thread counts are pinned by the script (torch and OpenBLAS).
 */
export function referenceEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  delete env.OPENBLAS_NUM_THREADS;
  delete env.OMP_NUM_THREADS;
  env.MALLOC_MMAP_THRESHOLD_ = String(32 * 1024 * 1024);
  env.MALLOC_TRIM_THRESHOLD_ = String(1024 * 1024 * 1024);
  env.MALLOC_TOP_PAD_ = String(64 * 1024 * 1024);
  return env;
}

/** A running `vae_reference.py serve`: one JSON request per line, one JSON answer per line, in order. */
export class PytorchReference {
  private readonly lines: Interface;
  private readonly waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  private nextId = 0;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (l) => this.waiting.shift()?.resolve(l));
    child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    child.on('exit', (code) => {
      const e = new Error(`the PyTorch reference exited (code ${code}): ${this.stderr.trim().split('\n').slice(-3).join(' ')}`);
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
  }

  /**
   * Starts the reference with `threads` torch threads, or says why it cannot: no interpreter at
   * `python`, or no torch in it.
   */
  static start(python: string, threads = 1): { reference: PytorchReference } | { reason: string } {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', env: referenceEnv() });
    if (probe.error) return { reason: `no Python at ${python} (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message}); install with \`apt-get install python3-torch libopenblas0-pthread\`` };
    if (probe.status !== 0) return { reason: `\`${python} -c "import torch"\` failed (${probe.stderr.trim().split('\n').pop()}); install with \`apt-get install python3-torch libopenblas0-pthread\`` };
    const child = spawn(python, [REFERENCE_SCRIPT, '--threads', String(threads), 'serve'], { env: referenceEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    return { reference: new PytorchReference(child) };
  }

  async request<T>(req: Record<string, unknown>): Promise<T> {
    if (this.child.exitCode !== null) throw new Error(`the PyTorch reference has exited (code ${this.child.exitCode})`);
    const line = new Promise<string>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.child.stdin.write(`${JSON.stringify(req)}\n`);
    const out = JSON.parse(await line) as T & { error?: string };
    if (out.error) throw new Error(`PyTorch reference: ${out.error}`);
    return out;
  }

  async info(): Promise<PytorchInfo> {
    const i = await this.request<{ torch: string; threads: number; blas: { libraries: string[]; openblas?: string; core?: string; openblasThreads?: number }; env: Record<string, string | null> }>({ op: 'info' });
    const blas = i.blas.openblas ? `${i.blas.openblas}; core ${i.blas.core}; ${i.blas.openblasThreads} OpenBLAS thread(s)` : i.blas.libraries.join(', ') || 'unknown';
    return { available: true, torch: i.torch, blas, threads: i.threads, env: i.env };
  }

  /** A stepper over the reference's training step (zero_grad + forward + backward + Adam) for `encoder` at `batch` on `threads` torch threads. */
  async stepper(encoder: 'gaussian' | 'planar', batch: number, threads = 1): Promise<Stepper> {
    const id = `m${this.nextId++}`;
    await this.request({ op: 'model', id, encoder, batch });
    return {
      label: `PyTorch ${encoder}${threads === 1 ? '' : `, ${threads} threads`}`,
      run: (n) => this.request<BlockTime>({ op: 'steps', id, n, threads }),
      dispose: async () => {
        await this.request({ op: 'dispose', id });
      },
    };
  }

  /** log p̂(x) of `rows` rows at K = `samples` on `threads` torch threads: the block's times. */
  async evaluate(id: string, rows: number, samples: number, threads: number): Promise<BlockTime> {
    return this.request<BlockTime>({ op: 'eval', id, rows, samples, threads, chunk: 100 });
  }

  /** A model for `evaluate` (the training stepper's model doubles as one). */
  async model(encoder: 'gaussian' | 'planar'): Promise<string> {
    const id = `m${this.nextId++}`;
    await this.request({ op: 'model', id, encoder, batch: 1 });
    return id;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.write(`${JSON.stringify({ op: 'exit' })}\n`);
    this.child.stdin.end();
    await exited;
    this.lines.close();
  }
}
