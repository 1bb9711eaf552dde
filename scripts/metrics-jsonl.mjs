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
  return readEpochTexts([{ file, text: fs.readFileSync(file, 'utf8') }]).map(({ fileIndex, ...row }) => row);
}

/**
 * The epoch lines of a run made in stages (a second run started from the first one's weights with
 * `vitlens train --pretrained`), as one curve: `files` are the stages' metrics.jsonl in order. A file
 * may also hold several stages one after another (the concatenation learning-curve.mjs writes): a
 * new stage starts there where the epoch number falls back to 1. Each epoch gets `stage` (1, 2, …),
 * `stage_epoch` (its number within the stage) and `epoch` / `step` counted from the first stage's
 * start; `hours` runs on across the stages.
 */
export function readStages(files) {
  const epochs = readEpochTexts(files.map((file) => ({ file, text: fs.readFileSync(file, 'utf8') })));
  let stage = 0;
  let epochOffset = 0;
  let stepOffset = 0;
  let previous;
  return epochs.map((e) => {
    const startsStage = previous === undefined || e.fileIndex !== previous.fileIndex || (e.epoch === 1 && previous.epoch > 1);
    if (startsStage) {
      if (previous !== undefined) {
        epochOffset += previous.epoch;
        stepOffset += previous.step;
      }
      stage += 1;
    }
    previous = e;
    const { fileIndex, ...row } = e;
    return { ...row, stage, stage_epoch: e.epoch, epoch: e.epoch + epochOffset, step: e.step + stepOffset };
  });
}

function readEpochTexts(sources) {
  const rows = [];
  sources.forEach(({ file, text }, fileIndex) => {
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        rows.push({ ...JSON.parse(line), fileIndex });
      } catch {
        console.error(`${file}:${i + 1}: not JSON, skipped`);
      }
    });
  });
  let active = 0;
  let previous;
  const epochs = [];
  for (const row of rows) {
    const at = Date.parse(row.time);
    if (Number.isFinite(at)) {
      // (the first line's own step, about a second, is not counted; nor is a clock that went back)
      if (previous !== undefined && at > previous && at - previous <= GAP_SECONDS * 1000) active += (at - previous) / 1000;
      previous = at;
    }
    if (row.type === 'epoch' && typeof row.val_accuracy === 'number') epochs.push({ ...row, hours: active / 3600 });
  }
  if (epochs.length === 0) throw new Error(`${sources.map((s) => s.file).join(' + ')}: no epoch lines with a validation accuracy`);
  return epochs;
}

/**
 * The text of a metrics.jsonl up to and including the line of epoch `epoch`: what a later stage
 * started from that epoch's checkpoint keeps of the stage before it (lines written after it, by a
 * run that went on, are not part of the model). Throws, naming the file, when the epoch has no line.
 */
export function untilEpoch(file, epoch) {
  const kept = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    kept.push(line);
    let row;
    try {
      row = JSON.parse(line);
    } catch {
      continue; // a torn line: kept as it is, readEpochs names and skips it
    }
    if (row.type === 'epoch' && row.epoch === epoch) return `${kept.join('\n')}\n`;
  }
  throw new Error(`${file}: no line for epoch ${epoch}; expected the run to have finished epoch ${epoch}`);
}

/**
 * The text of a metrics.jsonl up to and including step `step` (a checkpoint's): the lines a resume
 * from that checkpoint keeps, as @vitlens/train-loop's truncateMetrics keeps them. Lines written
 * after it (the run went on while the file was read) and torn lines are left out.
 */
export function untilStep(file, step) {
  const kept = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      try {
        const at = JSON.parse(line).step;
        return typeof at === 'number' && at <= step;
      } catch {
        return false; // a blank or torn line
      }
    });
  return kept.map((line) => `${line}\n`).join('');
}

// node scripts/metrics-jsonl.mjs until-epoch <metrics.jsonl> <epoch> > <out>
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname)) {
  const [command, file, epoch] = process.argv.slice(2);
  if (command !== 'until-epoch' || !file || !/^\d+$/.test(epoch ?? '')) {
    console.error('usage: node scripts/metrics-jsonl.mjs until-epoch <metrics.jsonl> <epoch> > <out>');
    process.exit(2);
  }
  try {
    process.stdout.write(untilEpoch(file, Number(epoch)));
  } catch (error) {
    console.error(`metrics-jsonl: ${error.message}`);
    process.exit(1);
  }
}
