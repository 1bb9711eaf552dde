/** Where a progress bar writes: a stream with an optional TTY flag (process.stderr by default). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressBarOptions {
  /** Units of work in all (steps, images). */
  total: number;
  /** Shown before the bar, e.g. "epoch 1/30". */
  label?: string;
  /** Unit for the rate, e.g. "img" gives "123.4 img/s". */
  unit?: string;
  stream?: ProgressStream;
  /** Override TTY detection (tests). */
  tty?: boolean;
  /** When not a TTY: print a plain line at most this often (default 10 s), and at the end. */
  lineIntervalMs?: number;
  /** Clock in ms (tests); default performance.now. */
  now?: () => number;
}

/** `93s` → `1m33s`, `4000s` → `1h06m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * A one-line progress bar with rate, ETA and custom fields (loss, acc…). On a TTY it redraws in
 * place; otherwise it prints a plain line every `lineIntervalMs` so logs stay readable.
 *
 * ```
 * epoch 1/30 [########------------]  40% 156/390  12.3 img/s  ETA 5m10s  loss 1.8731  lr 9.4e-4
 * ```
 */
export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly start: number;
  private lastLine = -Infinity;
  /** The first update: the rate is measured from it, so setup time before it does not count. */
  private first: { t: number; done: number; units: number } | undefined;
  private done = 0;
  private rateUnits = 0;
  private fields: Record<string, string | number> = {};
  private finished = false;

  constructor(private readonly opts: ProgressBarOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? this.stream.isTTY === true;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
  }

  /**
   * Set progress to `done` of `total`; `units` is the amount counted by the rate (e.g. images when
   * `done` counts steps; default `done`).
   */
  update(done: number, fields: Record<string, string | number> = {}, units = done): void {
    this.done = done;
    this.rateUnits = units;
    this.fields = { ...this.fields, ...fields };
    const t = this.now();
    this.first ??= { t, done, units };
    if (this.tty) {
      this.stream.write(`\r${this.render()}\x1b[K`);
    } else if (t - this.lastLine >= (this.opts.lineIntervalMs ?? 10_000)) {
      this.lastLine = t;
      this.stream.write(`${this.render()}\n`);
    }
  }

  /** Print the final state (and a newline on a TTY). */
  finish(fields: Record<string, string | number> = {}): void {
    if (this.finished) return;
    this.finished = true;
    this.fields = { ...this.fields, ...fields };
    this.stream.write(this.tty ? `\r${this.render()}\x1b[K\n` : `${this.render()}\n`);
  }

  /** The current line, without control characters. */
  render(): string {
    const { total } = this.opts;
    const now = this.now();
    const seconds = (now - this.start) / 1000;
    const fraction = total > 0 ? Math.min(1, this.done / total) : 0;
    const width = 20;
    const filled = Math.round(fraction * width);
    const f = this.first;
    const span = f ? (now - f.t) / 1000 : 0;
    const measured = f !== undefined && span > 0 && this.done > f.done;
    const rate = measured ? (this.rateUnits - f.units) / span : Number.NaN;
    const perDone = measured ? span / (this.done - f.done) : Number.NaN;
    const eta = formatDuration(perDone * (total - this.done));
    const parts = [
      ...(this.opts.label ? [this.opts.label] : []),
      `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`,
      `${String(Math.floor(fraction * 100)).padStart(3)}%`,
      `${this.done}/${total}`,
      `${Number.isFinite(rate) ? rate.toFixed(1) : '--'} ${this.opts.unit ?? 'it'}/s`,
      this.done >= total ? `took ${formatDuration(seconds)}` : `ETA ${eta}`,
      ...Object.entries(this.fields).map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`),
    ];
    return parts.join('  ');
  }
}

function formatNumber(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  return Math.abs(v) < 1e-2 ? v.toExponential(1) : v.toFixed(4);
}
