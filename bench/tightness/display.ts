/**
 * Progress of the benchmark's workers: on a terminal, one status line per worker redrawn in
 * place under the finished-job log; otherwise plain lines (job starts, epochs, results).
 */
export class StatusBoard {
  private readonly lines: string[];
  private drawn = 0;
  private finished = 0;
  private last = 0;
  private readonly tty: boolean;

  constructor(
    workers: number,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.lines = Array.from({ length: workers }, () => 'starting');
    this.tty = stream.isTTY === true && process.env.VAEKIT_QUIET !== '1';
  }

  /** Worker `w`'s status; `important` lines are printed in plain mode too. */
  set(w: number, text: string, important = true): void {
    this.lines[w] = text;
    if (this.tty) this.redraw();
    else if (important && process.env.VAEKIT_QUIET !== '1') this.stream.write(`[worker ${w + 1}] ${text}\n`);
  }

  /** A finished job (kept above the status lines). */
  done(text: string): void {
    this.finished++;
    const line = `[${this.finished}/${this.total}] ${text}`;
    if (this.tty) {
      this.clear();
      this.stream.write(`${line}\n`);
      this.redraw(true);
    } else if (process.env.VAEKIT_QUIET !== '1') this.stream.write(`${line}\n`);
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
    for (const [i, l] of this.lines.entries()) this.stream.write(`worker ${i + 1}: ${l}`.slice(0, width) + '\n');
    this.drawn = this.lines.length;
  }
}
