/** Human-readable byte count. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
}

export interface ProgressOptions {
  label: string;
  /** Total units, when known (bytes or items). */
  total?: number;
  /** 'bytes' formats amounts as kB/MB; 'items' as counts. */
  unit?: 'bytes' | 'items';
  /** Where to draw (default process.stderr). The bar is drawn only if it is a TTY. */
  stream?: NodeJS.WriteStream;
  /** Turn drawing off entirely. */
  enabled?: boolean;
}

/**
 * A one-line progress bar with rate and ETA on a TTY stderr; silent when stderr is not a terminal
 * (logs and CI stay clean). Redraws at most 10 times a second.
 */
export class ProgressBar {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly active: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.active = (options.enabled ?? true) && Boolean(this.stream.isTTY);
  }

  /** Set the starting amount (for a resumed download) without counting it in the rate. */
  private base = 0;
  resumeFrom(amount: number): void {
    this.base = amount;
    this.done = amount;
  }

  tick(amount: number): void {
    this.done += amount;
    const now = Date.now();
    if (this.active && now - this.lastDraw >= 100) {
      this.lastDraw = now;
      this.draw(now);
    }
  }

  finish(): void {
    if (this.active) {
      this.draw(Date.now());
      this.stream.write('\n');
    }
  }

  private fmt(n: number): string {
    return this.options.unit === 'items' ? String(n) : formatBytes(n);
  }

  private draw(now: number): void {
    const seconds = Math.max(1e-3, (now - this.start) / 1000);
    const rate = (this.done - this.base) / seconds;
    const total = this.options.total;
    const rateText = this.options.unit === 'items' ? `${rate.toFixed(0)}/s` : `${formatBytes(rate)}/s`;
    let line: string;
    if (total && total > 0) {
      const frac = Math.min(1, this.done / total);
      const width = 24;
      const filled = Math.round(frac * width);
      const eta = rate > 0 ? (total - this.done) / rate : Number.POSITIVE_INFINITY;
      line = `${this.options.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${this.fmt(this.done)}/${this.fmt(total)} ${rateText} ETA ${formatSeconds(eta)}`;
    } else {
      line = `${this.options.label} ${this.fmt(this.done)} ${rateText}`;
    }
    this.stream.write(`\r${line}\x1b[K`);
  }
}
