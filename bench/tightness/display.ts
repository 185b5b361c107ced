/**
 * Progress of the benchmark's workers: on a terminal, one status line per worker and a progress
 * bar with the ETA, redrawn in place under the finished-job log; otherwise plain lines (job
 * starts, epochs, results) and no bar. `quiet` (or VAEKIT_QUIET=1) prints nothing.
 */
export class StatusBoard {
  private readonly lines: string[];
  private bar: string | null = null;
  private drawn = 0;
  private finished = 0;
  private last = 0;
  private readonly tty: boolean;
  private readonly quiet: boolean;

  constructor(
    workers: number,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    { quiet = process.env.VAEKIT_QUIET === '1' }: { quiet?: boolean } = {},
  ) {
    this.lines = Array.from({ length: workers }, () => 'starting');
    this.quiet = quiet;
    this.tty = stream.isTTY === true && !quiet;
  }

  /** Worker `w`'s status; `important` lines are printed in plain mode too. */
  set(w: number, text: string, important = true): void {
    this.lines[w] = text;
    if (this.tty) this.redraw();
    else if (important && !this.quiet) this.stream.write(`[worker ${w + 1}] ${text}\n`);
  }

  /** The progress line under the workers' (drawn on a terminal only). */
  progress(line: string): void {
    this.bar = line;
    if (this.tty) this.redraw();
  }

  /** A finished job (kept above the status lines). */
  done(text: string): void {
    this.finished++;
    const line = `[${this.finished}/${this.total}] ${text}`;
    if (this.tty) {
      this.clear();
      this.stream.write(`${line}\n`);
      this.redraw(true);
    } else if (!this.quiet) this.stream.write(`${line}\n`);
  }

  stop(): void {
    if (this.tty) this.clear();
  }

  private clear(): void {
    if (this.drawn) this.stream.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private redraw(force = false): void {
    const now = Date.now();
    if (!force && now - this.last < 150) return;
    this.last = now;
    this.clear();
    const width = Math.max(40, (this.stream.columns || 100) - 1);
    const lines = this.lines.map((l, i) => `worker ${i + 1}: ${l}`);
    if (this.bar !== null) lines.push(this.bar);
    for (const l of lines) this.stream.write(l.slice(0, width) + '\n');
    this.drawn = lines.length;
  }
}
