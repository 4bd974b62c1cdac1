import type { CommandIo } from './command';

/** What a long-running command reports as it goes: units done so far, out of `total` when known. */
export interface ProgressSink {
  /** The total to expect (may be set or corrected later; unknown totals print no percentage or ETA). */
  setTotal(total: number): void;
  add(done: number): void;
  /** The last line (always printed when enabled, whatever the throttle), then the line is ended. */
  finish(): void;
}

/** A sink that prints nothing: --json, stderr not a terminal, or progress not asked for. */
export const NO_PROGRESS: ProgressSink = { setTotal: () => undefined, add: () => undefined, finish: () => undefined };

export interface ProgressFigures {
  readonly label: string;
  readonly unit: string;
  readonly done: number;
  readonly total: number | undefined;
  readonly elapsedMs: number;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** `1h02m`, `3m05s`, `42s`: an ETA or an elapsed time, to the second. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * One progress line: `verify users: 120,000/1,000,000 rows (12.0%), 24,000 rows/s, 5s, ETA 37s`.
 * The rate is the average since the start (steadier than the last interval's); no ETA before
 * the first units are done or without a total.
 */
export function formatProgress(f: ProgressFigures): string {
  const seconds = f.elapsedMs / 1000;
  const rate = seconds > 0 ? f.done / seconds : 0;
  const parts = [`${f.label}: ${count(f.done)}${f.total === undefined ? '' : `/${count(f.total)}`} ${f.unit}`];
  if (f.total !== undefined && f.total > 0) parts[0] += ` (${Math.min(100, (f.done / f.total) * 100).toFixed(1)}%)`;
  parts.push(`${count(rate)} ${f.unit}/s`, formatDuration(f.elapsedMs));
  if (f.total !== undefined && rate > 0 && f.done < f.total) parts.push(`ETA ${formatDuration(((f.total - f.done) / rate) * 1000)}`);
  return parts.join(', ');
}

export interface ProgressReporterOptions {
  readonly label: string;
  readonly unit?: string;
  readonly total?: number;
  /** At most one line per interval (default 1000 ms)... */
  readonly intervalMs?: number;
  /** ...and also one after every `everyUnits` units (dlq replay --progress-every). */
  readonly everyUnits?: number;
  /** Writes one line; `rewrite` lines replace the previous one (a terminal), others are appended. */
  readonly write: (line: string) => void;
  /** A terminal: each line overwrites the last (carriage return), the last is ended by finish(). */
  readonly rewrite?: boolean;
  readonly now?: () => number;
}

/** Throttled progress lines: rows done/total, rate, elapsed, ETA. The clock is injectable for tests. */
export class ProgressReporter implements ProgressSink {
  private readonly now: () => number;
  private readonly started: number;
  private lastAt: number;
  private lastDone = 0;
  private done = 0;
  private total: number | undefined;
  private printed = false;

  constructor(private readonly options: ProgressReporterOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.lastAt = this.started;
    this.total = options.total;
  }

  setTotal(total: number): void {
    this.total = total;
  }

  add(done: number): void {
    this.done += done;
    const at = this.now();
    const every = this.options.everyUnits;
    if (at - this.lastAt >= (this.options.intervalMs ?? 1000) || (every !== undefined && this.done - this.lastDone >= every)) this.print(at);
  }

  finish(): void {
    this.print(this.now());
    if (this.options.rewrite && this.printed) this.options.write('\n');
  }

  /** The current line (for tests and for a final summary). */
  line(at = this.now()): string {
    return formatProgress({ label: this.options.label, unit: this.options.unit ?? 'rows', done: this.done, total: this.total, elapsedMs: at - this.started });
  }

  private print(at: number): void {
    this.lastAt = at;
    this.lastDone = this.done;
    this.printed = true;
    this.options.write(this.options.rewrite ? `\r\x1b[K${this.line(at)}` : `${this.line(at)}\n`);
  }
}

/**
 * Progress on stderr for a command: off with --json; on with --progress (forced, e.g. into a log
 * file); otherwise only when stderr is a terminal. A terminal gets one line rewritten in place,
 * anything else one line per report.
 */
export function commandProgress(io: CommandIo, options: { label: string; unit?: string; json?: boolean; force?: boolean; everyUnits?: number; isTTY?: boolean }): ProgressSink {
  const isTTY = options.isTTY ?? process.stderr.isTTY === true;
  if (options.json === true || !(options.force === true || isTTY)) return NO_PROGRESS;
  return new ProgressReporter({
    label: options.label,
    ...(options.unit !== undefined ? { unit: options.unit } : {}),
    ...(options.everyUnits !== undefined ? { everyUnits: options.everyUnits } : {}),
    rewrite: isTTY,
    write: isTTY ? (text) => void process.stderr.write(text) : (text) => io.err(text.replace(/\n$/, '')),
  });
}
