import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@vitlens/core/node';
import type { ClassificationMetrics } from './metrics';

export const REPORT_TEXT_FILE = 'evaluation_results.txt';
export const REPORT_JSON_FILE = 'evaluation_results.json';

/** An evaluation with what was evaluated: the split, the data, the checkpoint. */
export interface EvaluationReport extends ClassificationMetrics {
  /** E.g. 'test', or 'validation (held out of train: 500 per class, seed 42)'. */
  split: string;
  data: string;
  checkpoint: string;
  createdAt: string;
}

const pct = (x: number | null): string => (x === null ? '   n/a' : `${(100 * x).toFixed(2)}%`);

/**
 * The text report: first line `Test Set Accuracy: NN.NN%` (the reference project's format), then
 * what was evaluated, top-5, mean loss, a per-class table and the confusion matrix.
 */
export function formatEvaluationReport(r: EvaluationReport): string {
  const width = Math.max(5, ...r.perClass.map((c) => c.name.length));
  const lines = [
    `Test Set Accuracy: ${pct(r.accuracy)}`,
    '',
    `Split:       ${r.split}`,
    `Images:      ${r.count}`,
    `Data:        ${r.data}`,
    `Checkpoint:  ${r.checkpoint}`,
    `Top-5:       ${pct(r.top5)}`,
    `Mean loss:   ${r.meanLoss.toFixed(4)}`,
    `Date:        ${r.createdAt}`,
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
