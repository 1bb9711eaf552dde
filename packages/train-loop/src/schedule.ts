/** Learning-rate schedule kinds. */
export type ScheduleKind = 'constant' | 'cosine' | 'linear';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'cosine', 'linear'];

export interface ScheduleOptions {
  kind: ScheduleKind;
  /** Peak learning rate, reached at the end of the warmup. */
  lr: number;
  /** Total optimizer steps of the run (needed by cosine and linear). */
  totalSteps: number;
  /** Linear warmup from lr/warmupSteps up to lr over this many steps. Default 0. */
  warmupSteps?: number;
  /** Where cosine and linear decay end. Default 0. */
  minLr?: number;
}

/**
 * The learning rate for the optimizer step with 0-based index `step`.
 *
 * Warmup: `lr·(step+1)/warmup` for `step < warmup` (the first step is not wasted at lr 0).
 * Then, with `progress = (step − warmup)/(total − warmup)`:
 * constant `lr`; cosine `minLr + (lr − minLr)·½(1 + cos(π·progress))`;
 * linear `minLr + (lr − minLr)·(1 − progress)`. Progress is clamped to [0, 1].
 */
export function learningRateAt(opts: ScheduleOptions, step: number): number {
  const warmup = opts.warmupSteps ?? 0;
  const minLr = opts.minLr ?? 0;
  if (step < warmup) return (opts.lr * (step + 1)) / warmup;
  if (opts.kind === 'constant') return opts.lr;
  const span = Math.max(1, opts.totalSteps - warmup);
  const progress = Math.min(1, Math.max(0, (step - warmup) / span));
  const factor = opts.kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return minLr + (opts.lr - minLr) * factor;
}

/** Validate schedule options, naming the field and what was expected. */
export function checkSchedule(opts: ScheduleOptions, source = 'schedule'): ScheduleOptions {
  if (!SCHEDULE_KINDS.includes(opts.kind)) {
    throw new Error(`${source}.kind: '${opts.kind}' is not a schedule; valid kinds are ${SCHEDULE_KINDS.join(', ')}`);
  }
  if (!(Number.isFinite(opts.lr) && opts.lr > 0)) throw new RangeError(`${source}.lr: expected a positive number, got ${opts.lr}`);
  if (!(Number.isInteger(opts.totalSteps) && opts.totalSteps > 0)) {
    throw new RangeError(`${source}.totalSteps: expected a positive integer, got ${opts.totalSteps}`);
  }
  const warmup = opts.warmupSteps ?? 0;
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new RangeError(`${source}.warmupSteps: expected an integer ≥ 0, got ${warmup}`);
  const minLr = opts.minLr ?? 0;
  if (!(Number.isFinite(minLr) && minLr >= 0 && minLr <= opts.lr)) {
    throw new RangeError(`${source}.minLr: expected a number in [0, lr=${opts.lr}], got ${minLr}`);
  }
  return opts;
}
