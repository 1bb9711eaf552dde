import fs from 'node:fs/promises';
import { writeFileAtomic } from '@vitlens/core/node';

/** The run's log, in its output folder: one JSON object per line. */
export const METRICS_FILE = 'metrics.jsonl';

/** One line of `metrics.jsonl` per optimizer step. */
export interface StepMetrics {
  type: 'step';
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  images_per_s: number;
  grad_norm: number | null;
  time: string;
}

/** One line of `metrics.jsonl` per completed epoch (or at the end of a run cut by maxSteps). */
export interface EpochMetrics {
  type: 'epoch';
  epoch: number;
  step: number;
  train_loss: number;
  val_loss: number | null;
  val_accuracy: number | null;
  val_top5: number | null;
  /** The same for the average of the weights, when the run keeps one (`config.ema` > 0). */
  val_loss_ema?: number | null;
  val_accuracy_ema?: number | null;
  images_per_s: number;
  seconds: number;
  checkpoint: string;
  time: string;
}

/**
 * Drop the lines of `metrics.jsonl` past `step` (and a torn last line): after a crash the resumed
 * run writes those steps again, so each step appears once. Rewritten atomically.
 */
export async function truncateMetrics(file: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return;
  }
  const kept: string[] = [];
  for (const line of text.split('\n').slice(0, -1)) {
    try {
      const at = (JSON.parse(line) as { step?: unknown }).step;
      if (typeof at === 'number' && at <= step) kept.push(line);
    } catch {
      // a line torn by the crash
    }
  }
  const next = kept.map((l) => `${l}\n`).join('');
  if (next !== text) await writeFileAtomic(file, next);
}

/** Appends a run's lines to its `metrics.jsonl`. */
export class MetricsLog {
  constructor(readonly file: string) {}

  append(line: StepMetrics | EpochMetrics): Promise<void> {
    return fs.appendFile(this.file, `${JSON.stringify(line)}\n`);
  }
}
