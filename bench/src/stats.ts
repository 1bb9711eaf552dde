/** Median of a non-empty list (the mean of the two middle values for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median: no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Spread of a sample as (max − min) / median, the noise figure printed beside each median. */
export function spread(values: readonly number[]): number {
  const m = median(values);
  return m === 0 ? 0 : (Math.max(...values) - Math.min(...values)) / m;
}

/**
 * Run `fn` `warmup` times untimed, then `reps` times timed; returns each timed run's seconds.
 * `fn` must finish its work (read back a value) before it resolves, or the timing means nothing.
 */
export async function timeRuns(fn: () => unknown, opts: { warmup: number; reps: number }): Promise<number[]> {
  for (let i = 0; i < opts.warmup; i++) await fn();
  const seconds: number[] = [];
  for (let i = 0; i < opts.reps; i++) {
    const t0 = performance.now();
    await fn();
    seconds.push((performance.now() - t0) / 1000);
  }
  return seconds;
}
