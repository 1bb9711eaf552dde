// The scripts that turn a training run's metrics.jsonl into the learning curve and the
// time-to-accuracy table: active hours, stages, the table's rows. `node --test scripts/test/`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readEpochs, readStages, untilEpoch } from '../metrics-jsonl.mjs';

const SCRIPTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const T0 = Date.parse('2026-11-01T00:00:00Z');

/** metrics.jsonl text: per epoch, two step lines 30 s apart and the epoch line 30 s later. */
function metricsText(epochs, { start = T0, stepsPerEpoch = 2, pauseAfter = new Set(), pauseSeconds = 3600, gain = 0 } = {}) {
  let t = start;
  let step = 0;
  const lines = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let s = 0; s < stepsPerEpoch; s++) {
      t += 30_000;
      step += 1;
      lines.push({ type: 'step', step, epoch, loss: 1, time: new Date(t).toISOString() });
    }
    t += 30_000;
    lines.push({
      type: 'epoch',
      epoch,
      step,
      train_loss: 2 - epoch / 10,
      val_loss: 2 - epoch / 10,
      val_accuracy: 0.3 + gain + epoch / 100,
      val_accuracy_ema: 0.31 + gain + epoch / 100,
      images_per_s: 100 + epoch,
      time: new Date(t).toISOString(),
    });
    if (pauseAfter.has(epoch)) t += pauseSeconds * 1000;
  }
  return { text: lines.map((l) => `${JSON.stringify(l)}\n`).join(''), end: t };
}

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vitlens-scripts-'));
}

test('readEpochs counts active time and leaves out the pause between a stop and its resume', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'metrics.jsonl');
  fs.writeFileSync(file, metricsText(3, { pauseAfter: new Set([1]) }).text);
  const epochs = readEpochs(file);
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3]);
  // 90 s per epoch; the first line's own 30 s is not counted; the hour's pause after epoch 1 is left out
  assert.deepEqual(epochs.map((e) => Math.round(e.hours * 3600)), [60, 120, 210]);
  assert.equal('fileIndex' in epochs[0], false);
});

test('readEpochs names a file without epoch lines', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'metrics.jsonl');
  fs.writeFileSync(file, '{"type":"step","step":1,"time":"2026-11-01T00:00:00Z"}\nnot json\n');
  assert.throws(() => readEpochs(file), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no epoch lines`));
});

test('readStages counts epochs, steps and hours on across the stages of one model', () => {
  const dir = tmpDir();
  const first = metricsText(3);
  const second = metricsText(2, { start: first.end + 600_000 });
  fs.writeFileSync(path.join(dir, 'stage1.jsonl'), first.text);
  fs.writeFileSync(path.join(dir, 'stage2.jsonl'), second.text);
  const epochs = readStages([path.join(dir, 'stage1.jsonl'), path.join(dir, 'stage2.jsonl')]);
  assert.deepEqual(epochs.map((e) => [e.stage, e.stage_epoch, e.epoch, e.step]), [
    [1, 1, 1, 2], [1, 2, 2, 4], [1, 3, 3, 6], [2, 1, 4, 8], [2, 2, 5, 10],
  ]);
  // the ten minutes between the stages are a pause; stage 2's first epoch adds its own 60 s
  assert.deepEqual(epochs.map((e) => Math.round(e.hours * 3600)), [60, 150, 240, 300, 390]);

  // the same stages read back from their concatenation (what learning-curve.mjs writes)
  fs.writeFileSync(path.join(dir, 'both.jsonl'), first.text + second.text);
  assert.deepEqual(readStages([path.join(dir, 'both.jsonl')]), epochs);
});

test('readStages keeps a re-done epoch of a resumed run inside its stage', () => {
  const dir = tmpDir();
  const { text } = metricsText(3);
  const lines = text.trimEnd().split('\n');
  const file = path.join(dir, 'metrics.jsonl');
  // epoch 2's line written twice (a crash after the line, before the checkpoint): still one stage
  fs.writeFileSync(file, [...lines.slice(0, 6), lines[5], ...lines.slice(6)].join('\n'));
  const epochs = readStages([file]);
  assert.deepEqual(epochs.map((e) => [e.stage, e.epoch]), [[1, 1], [1, 2], [1, 2], [1, 3]]);
});

test('learning-curve.mjs draws the stages as one curve and writes their data beside it', () => {
  const dir = tmpDir();
  const first = metricsText(2);
  fs.writeFileSync(path.join(dir, 'a.jsonl'), first.text);
  fs.writeFileSync(path.join(dir, 'b.jsonl'), metricsText(2, { start: first.end + 600_000, gain: 0.1 }).text);
  const out = path.join(dir, 'curve');
  const result = spawnSync(process.execPath, [path.join(SCRIPTS, 'learning-curve.mjs'), path.join(dir, 'a.jsonl'), path.join(dir, 'b.jsonl'), '--out', out, '--title', 'two stages'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const table = fs.readFileSync(`${out}.md`, 'utf8');
  assert.match(table, /\| stage \| stage epoch \| epoch \| step \|/);
  assert.match(table, /\n\| 2 \| 2 \| 4 \| 8 \| /);
  assert.match(table, /Best validation accuracy: 42\.00% at epoch 4 \(0\.08 h\)\. Average of the weights \(EMA\): 43\.00% at epoch 4/);
  const svg = fs.readFileSync(`${out}.svg`, 'utf8');
  assert.equal(svg.match(/>stage 2</g).length, 3); // one dashed mark per panel
  assert.equal(fs.readFileSync(`${out}.jsonl`, 'utf8'), fs.readFileSync(path.join(dir, 'a.jsonl'), 'utf8') + fs.readFileSync(path.join(dir, 'b.jsonl'), 'utf8'));
});

/** A run folder as `vitlens train` leaves it: metrics.jsonl and last/ with its state and weights. */
function fakeRun(dir, { model, epochs, planned }) {
  fs.mkdirSync(path.join(dir, 'last'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), metricsText(epochs).text);
  fs.writeFileSync(path.join(dir, 'last', 'trainer_state.json'), JSON.stringify({ config: { model, epochs: planned } }));
  // two F32 tensors, 1,000 × 1,000 and 500: 1,000,500 weights
  const header = Buffer.from(JSON.stringify({ __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [1000, 1000], data_offsets: [0, 4e6] }, b: { dtype: 'F32', shape: [500], data_offsets: [4e6, 4e6 + 2000] } }));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length));
  fs.writeFileSync(path.join(dir, 'last', 'model.safetensors'), Buffer.concat([size, header, Buffer.alloc(4e6 + 2000)]));
}

test('time-to-accuracy.mjs tabulates run folders in order of hours, with their parameters', () => {
  const dir = tmpDir();
  fakeRun(path.join(dir, 'runs', 'wide-e2'), { model: '/x/bench/time-to-accuracy/wide/config.json', epochs: 2, planned: 2 });
  fakeRun(path.join(dir, 'long'), { model: 'vit-mini-patch4-32', epochs: 5, planned: 50 });
  const out = path.join(dir, 'table.md');
  const result = spawnSync(process.execPath, [path.join(SCRIPTS, 'time-to-accuracy.mjs'), '--runs', path.join(dir, 'runs'), '--also', path.join(dir, 'long'), '--out', out], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const rows = fs.readFileSync(out, 'utf8').split('\n').filter((l) => /^\| (wide|long)/.test(l));
  assert.deepEqual(rows, [
    '| wide-e2 | wide | 1.00 M | 2 / 2 | 0.04 | 102.0 | 32.00% | 33.00% | 33.00% |',
    '| long | vit-mini-patch4-32 | 1.00 M | 5 / 50 | 0.12 | 103.0 | 35.00% | 36.00% | 36.00% |',
  ]);
});

test('time-to-accuracy.mjs keeps the rows of runs gone from the machine and names a copy of a run by its run folder', () => {
  const dir = tmpDir();
  const out = path.join(dir, 'table.md');
  const script = path.join(SCRIPTS, 'time-to-accuracy.mjs');
  fakeRun(path.join(dir, 'runs', 'wide-e2'), { model: 'wide', epochs: 2, planned: 2 });
  fakeRun(path.join(dir, 'deep-e2'), { model: 'deep', epochs: 3, planned: 3 });
  const first = spawnSync(process.execPath, [script, '--runs', path.join(dir, 'runs'), '--also', path.join(dir, 'deep-e2'), '--out', out], { encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  const deepRow = fs.readFileSync(out, 'utf8').split('\n').find((l) => l.startsWith('| deep-e2 '));

  // deep-e2's folder is gone; wide-e2 trained on; a copy of a long run (no last/, its newest
  // checkpoint by steps, a run-folder file) is added with --also.
  fs.rmSync(path.join(dir, 'deep-e2'), { recursive: true });
  fakeRun(path.join(dir, 'runs', 'wide-e2'), { model: 'wide', epochs: 4, planned: 4 });
  const copy = path.join(dir, 'default-run');
  fakeRun(copy, { model: 'vit-lite-patch4-32', epochs: 5, planned: 100 });
  fs.renameSync(path.join(copy, 'last'), path.join(copy, 'epoch-005'));
  fs.writeFileSync(path.join(copy, 'epoch-005', 'trainer_state.json'), JSON.stringify({ step: 10, config: { model: 'vit-lite-patch4-32', epochs: 100 } }));
  fs.mkdirSync(path.join(copy, 'epoch-002'));
  fs.writeFileSync(path.join(copy, 'epoch-002', 'trainer_state.json'), JSON.stringify({ step: 4, config: { model: 'older', epochs: 1 } }));
  fs.writeFileSync(path.join(copy, 'run-folder'), 'lite\n');
  const result = spawnSync(process.execPath, [script, '--runs', path.join(dir, 'runs'), '--also', copy, '--out', out], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /3 runs \(1 kept from the previous table: deep-e2\)/);
  const rows = fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| run ') && !l.startsWith('| ---'));
  assert.deepEqual(rows, [
    deepRow, // 0.07 h, kept word for word
    '| wide-e2 | wide | 1.00 M | 4 / 4 | 0.09 | 103.0 | 34.00% | 35.00% | 35.00% |',
    '| lite | vit-lite-patch4-32 | 1.00 M | 5 / 100 | 0.12 | 103.0 | 35.00% | 36.00% | 36.00% |',
  ]);
});

test('time-to-accuracy.mjs rejects a bad epoch budget and a missing config by name', () => {
  const dir = tmpDir();
  const run = (...flags) => spawnSync(process.execPath, [path.join(SCRIPTS, 'time-to-accuracy.mjs'), '--runs', dir, ...flags], { encoding: 'utf8' });
  assert.match(run('--candidates', 'vit-mini-patch4-32:0').stderr, /--candidates vit-mini-patch4-32:0: the epoch budget after ':' must be a positive integer/);
  assert.match(run('--candidates', 'nowhere/config.json:2').stderr, /--candidates nowhere\/config.json:2: nowhere\/config.json does not exist/);
  assert.match(run('--also', path.join(dir, 'none')).stderr, /--also .*none: no metrics.jsonl there/);
});

test('untilEpoch keeps a stage up to the epoch a later stage started from, and names a missing epoch', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'metrics.jsonl');
  fs.writeFileSync(file, metricsText(4).text);
  const kept = untilEpoch(file, 2);
  const lines = kept.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => `${l.type}:${l.epoch}`), ['step:1', 'step:1', 'epoch:1', 'step:2', 'step:2', 'epoch:2']);
  assert.throws(() => untilEpoch(file, 9), new RegExp(`${file.replace(/[.]/g, '\\.')}: no line for epoch 9`));
  // The command-line form the training script uses.
  const cli = spawnSync(process.execPath, [path.join(SCRIPTS, 'metrics-jsonl.mjs'), 'until-epoch', file, '2'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(cli.stdout, kept);
  const missing = spawnSync(process.execPath, [path.join(SCRIPTS, 'metrics-jsonl.mjs'), 'until-epoch', file, '9'], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no line for epoch 9/);
});
