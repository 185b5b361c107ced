import cliProgress from 'cli-progress';
import { hostEnv, hostStderr } from '../core/host-env.js';

/** A progress reporter for long work (evaluation, benches, training). */
export interface Progress {
  /** Advance by `n` units (default 1). */
  tick(n?: number): void;
  /** Set the absolute position. */
  update(value: number): void;
  /** Finish (prints the final state once; idempotent). */
  stop(): void;
}

export interface ProgressOptions {
  /**
   * `true`: always report; `false`: silent; absent: report unless `VAEKIT_QUIET=1`.
   * On a terminal (stderr is a TTY) the report is a `cli-progress` bar; otherwise plain lines.
   */
  enabled?: boolean;
  /** Where to write (default: process.stderr; where there is none, a browser, nothing is reported). */
  stream?: NodeJS.WriteStream;
  /** Plain-line mode: print a line every this fraction of the total (default 0.1). */
  every?: number;
}

const SILENT: Progress = { tick() {}, update() {}, stop() {} };

/**
 * `createProgress(label, total)`: a bar on a TTY (`cli-progress`), plain lines such as
 * `label: 40/100 (40%) 3.2s` every 10 % otherwise, nothing when `enabled: false` or when
 * `VAEKIT_QUIET=1` and `enabled` is not given.
 */
export function createProgress(label: string, total: number, { enabled, stream = hostStderr(), every = 0.1 }: ProgressOptions = {}): Progress {
  const on = enabled ?? hostEnv('VAEKIT_QUIET') !== '1';
  if (!on || total <= 0 || !stream) return SILENT;
  const started = Date.now();
  let value = 0;
  let stopped = false;

  if (stream.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} (eta {eta_formatted})`,
        stream,
        hideCursor: null,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      tick(n = 1) {
        value += n;
        bar.update(Math.min(value, total));
      },
      update(v: number) {
        value = v;
        bar.update(Math.min(value, total));
      },
      stop() {
        if (stopped) return;
        stopped = true;
        bar.stop();
      },
    };
  }

  const step = Math.max(1, Math.ceil(total * every));
  let nextLine = step;
  const line = () => {
    const pct = Math.round((100 * Math.min(value, total)) / total);
    stream.write(`${label}: ${Math.min(value, total)}/${total} (${pct}%) ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  };
  const moved = () => {
    if (value >= nextLine && value < total) {
      line();
      while (nextLine <= value) nextLine += step;
    }
  };
  return {
    tick(n = 1) {
      value += n;
      moved();
    },
    update(v: number) {
      value = v;
      moved();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      line();
    },
  };
}
