import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@vitlens/core/node';
import type { ClassificationMetrics } from './metrics';

export const REPORT_TEXT_FILE = 'evaluation_results.txt';
export const REPORT_JSON_FILE = 'evaluation_results.json';

/** An evaluation with what was evaluated: the split, the data, the checkpoint. */
export interface EvaluationReport extends ClassificationMetrics {
  /** E.g. 'test', or 'validation (held out of 'train': 500 per class, seed 42)'. */
  split: string;
  /** Set when the images are a validation split held out of `from` (as `vitlens train` holds them out). */
  heldOut?: { from: string; perClass: number; seed: number };
  /**
   * Set when the images are the ones `vitlens train` trained on: `from` less the `heldOutPerClass`
   * images per class it held out with `seed` (`vitlens evaluate --split trained`, to measure fit).
   */
  trainedOn?: { from: string; heldOutPerClass: number; seed: number };
  /** The data and the checkpoint as `reportPath` writes them: never a machine's absolute path. */
  data: string;
  checkpoint: string;
  /** The TensorFlow.js backend that ran the model (e.g. 'wasm'), when known. */
  backend?: string;
  /**
   * Set when only part of the split was evaluated (`vitlens evaluate --limit`): `count` of its `of`
   * images, taken class by class in turn (`balancedHead`). The accuracy heading says so.
   */
  subset?: { of: number };
  /** 'flip' when each image's probabilities were averaged with its mirror image's (`--tta flip`). */
  testTimeAugmentation?: 'flip';
  /** The command that made the report (e.g. `vitlens evaluate --split val …`), when known. */
  command?: string;
  createdAt: string;
}

/**
 * A path as a report records it: relative to the working directory (`/` separators), so a report
 * made on one machine names no folder of that machine.
 */
export function reportPath(p: string, cwd: string = process.cwd()): string {
  const relative = path.relative(cwd, path.resolve(cwd, p));
  return relative === '' ? '.' : relative.split(path.sep).join('/');
}

/**
 * What the accuracy is of: `Test Set Accuracy` for a test split (the reference project's words),
 * `Validation Accuracy (held out of 'train': 500 per class, seed 42)` for a held-out validation
 * split, `Training Accuracy (the images trained on: 'train' less 500 per class held out, seed 42)`
 * for the rest of it, `Accuracy on 'train'` for any other split; followed by
 * `on 500 of its 10000 images` when only a subset was evaluated.
 */
export function accuracyHeading(r: Pick<EvaluationReport, 'split' | 'heldOut' | 'trainedOn' | 'subset'> & { count?: number }): string {
  const part = r.subset ? ` on ${r.count} of its ${r.subset.of} images` : '';
  if (r.heldOut) return `Validation Accuracy (held out of '${r.heldOut.from}': ${r.heldOut.perClass} per class, seed ${r.heldOut.seed})${part}`;
  if (r.trainedOn) {
    const { from, heldOutPerClass, seed } = r.trainedOn;
    return `Training Accuracy (the images trained on: '${from}' less ${heldOutPerClass} per class held out, seed ${seed})${part}`;
  }
  return r.split === 'test' ? `Test Set Accuracy${part}` : `Accuracy on '${r.split}'${part}`;
}

const pct = (x: number | null): string => (x === null ? '   n/a' : `${(100 * x).toFixed(2)}%`);

/**
 * The text report: first line `<accuracyHeading>: NN.NN%` (`Test Set Accuracy: NN.NN%` for a test
 * split, the reference project's format), then what was evaluated, top-5, mean loss, a per-class
 * table and the confusion matrix.
 */
export function formatEvaluationReport(r: EvaluationReport): string {
  const width = Math.max(5, ...r.perClass.map((c) => c.name.length));
  const lines = [
    `${accuracyHeading(r)}: ${pct(r.accuracy)}`,
    '',
    `Split:       ${r.split}`,
    `Images:      ${r.count}${r.subset ? ` of ${r.subset.of} (the first of each class in turn)` : ''}`,
    `Data:        ${r.data}`,
    `Checkpoint:  ${r.checkpoint}`,
    ...(r.backend ? [`Backend:     ${r.backend}`] : []),
    ...(r.testTimeAugmentation ? ['TTA:         flip (each image averaged with its mirror image)'] : []),
    `Top-5:       ${pct(r.top5)}`,
    `Mean loss:   ${r.meanLoss.toFixed(4)}`,
    `Date:        ${r.createdAt}`,
    ...(r.command ? [`Command:     ${r.command}`] : []),
    '',
    'Per-class accuracy:',
    `  ${'class'.padEnd(width)}  correct  total  accuracy`,
    ...r.perClass.map((c) => `  ${c.name.padEnd(width)}  ${String(c.correct).padStart(7)}  ${String(c.total).padStart(5)}  ${pct(c.accuracy).padStart(8)}`),
    '',
    'Confusion matrix (rows: true class, columns: predicted class):',
  ];
  const cell = Math.max(5, ...r.confusion.flat().map((n) => String(n).length + 1));
  const abbrev = r.perClass.map((c) => c.name.slice(0, cell - 1).padStart(cell));
  lines.push(`  ${''.padEnd(width)}${abbrev.join('')}`);
  r.confusion.forEach((row, i) => {
    lines.push(`  ${r.perClass[i]!.name.padEnd(width)}${row.map((n) => String(n).padStart(cell)).join('')}`);
  });
  return `${lines.join('\n')}\n`;
}

/** Write `evaluation_results.txt` and `evaluation_results.json` into `outDir`, each atomically. */
export async function writeEvaluationReport(outDir: string, report: EvaluationReport): Promise<{ text: string; json: string }> {
  const text = path.join(outDir, REPORT_TEXT_FILE);
  const json = path.join(outDir, REPORT_JSON_FILE);
  await writeFileAtomic(text, formatEvaluationReport(report));
  await writeJsonAtomic(json, report);
  return { text, json };
}
