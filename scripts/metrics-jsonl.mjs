// Reads a training run's metrics.jsonl (written by @vitlens/train-loop's `train`): its epoch lines,
// each with the run's active wall-clock hours up to it. Shared by learning-curve.mjs and
// time-to-accuracy.mjs so both count time the same way.
import fs from 'node:fs';

/** A pause longer than this between two consecutive lines is the run being stopped and resumed. */
const GAP_SECONDS = 120;

/**
 * The epoch lines of a metrics.jsonl, in order, each with `hours`: the run's active wall-clock time
 * up to that line, from the lines' own timestamps, leaving out the pauses between a stop and its
 * resume (a gap over two minutes; steps take seconds, a validation pass under a minute here). A torn
 * or foreign line is named and skipped.
 */
export function readEpochs(file) {
  const rows = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        rows.push(JSON.parse(line));
      } catch {
        console.error(`${file}:${i + 1}: not JSON, skipped`);
      }
    });
  let active = 0;
  let previous;
  const epochs = [];
  for (const row of rows) {
    const at = Date.parse(row.time);
    if (Number.isFinite(at)) {
      // (the first line's own step, about a second, is not counted)
      if (previous !== undefined && at - previous <= GAP_SECONDS * 1000) active += (at - previous) / 1000;
      previous = at;
    }
    if (row.type === 'epoch' && typeof row.val_accuracy === 'number') epochs.push({ ...row, hours: active / 3600 });
  }
  if (epochs.length === 0) throw new Error(`${file}: no epoch lines with a validation accuracy`);
  return epochs;
}
