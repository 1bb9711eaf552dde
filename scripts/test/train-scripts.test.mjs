// scripts/train-default.sh and scripts/train-lite.sh decide what to run from what is on disk: resume a
// run folder, start a stage, or restore the copy in models/default-run (only into the run it is a copy
// of). These tests run them in a scratch copy of the repository layout whose CLI
// (apps/cli/dist/bin.js) only records its arguments. `node --test scripts/test/`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scratchRoots = [];
after(() => {
  for (const root of scratchRoots) fs.rmSync(root, { recursive: true, force: true });
});

/** A scratch repository with the two scripts, metrics-jsonl.mjs and a CLI that logs each call. */
function scratchRepo() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vitlens-train-scripts-'));
  scratchRoots.push(root);
  const repo = path.join(root, 'repo');
  fs.mkdirSync(path.join(repo, 'scripts'), { recursive: true });
  for (const f of ['train-default.sh', 'train-lite.sh', 'run-folders.sh', 'metrics-jsonl.mjs']) fs.copyFileSync(path.join(SCRIPTS, f), path.join(repo, 'scripts', f));
  fs.mkdirSync(path.join(repo, 'apps/cli/dist'), { recursive: true });
  fs.writeFileSync(
    path.join(repo, 'apps/cli/dist/bin.js'),
    [
      "const fs = require('node:fs');",
      'const args = process.argv.slice(2);',
      "fs.appendFileSync(process.env.CLI_LOG, JSON.stringify(args) + '\\n');",
      '// A train run given --stop-after-epoch N ends with its epoch-N checkpoint and metrics line, as the real one does.',
      "const stop = args.indexOf('--stop-after-epoch');",
      '// Ctrl-C (FAKE_TRAIN_EXIT=130) stops any train run before it writes anything.',
      "if (args[0] === 'train' && process.env.FAKE_TRAIN_EXIT) process.exit(Number(process.env.FAKE_TRAIN_EXIT));",
      '// evaluate writes a report with accuracy FAKE_ACCURACY',
      "if (args[0] === 'evaluate') {",
      "  const out = args[args.indexOf('--out') + 1];",
      '  fs.mkdirSync(out, { recursive: true });',
      "  fs.writeFileSync(`${out}/evaluation_results.json`, JSON.stringify({ accuracy: Number(process.env.FAKE_ACCURACY ?? '0.5') }));",
      '}',
      "if (args[0] === 'train' && stop >= 0) {",
      "  const out = args[args.indexOf('--out') + 1];",
      '  const epoch = Number(args[stop + 1]);',
      "  fs.mkdirSync(`${out}/epoch-${String(epoch).padStart(3, '0')}`, { recursive: true });",
      "  fs.appendFileSync(`${out}/metrics.jsonl`, JSON.stringify({ type: 'epoch', epoch, step: 1000 }) + '\\n');",
      '}',
      '// Without one it ends with its last epoch: --epochs, or FAKE_FINAL_EPOCH for a resume (whose plan is',
      '// in the run folder).',
      "if (args[0] === 'train' && stop < 0) {",
      "  const out = args[args.indexOf('--out') + 1];",
      "  const last = args.includes('--epochs') ? args[args.indexOf('--epochs') + 1] : process.env.FAKE_FINAL_EPOCH;",
      '  if (last) {',
      '    // and the earlier epochs a run keeps (FAKE_KEPT_EPOCHS: the best, or every one with --keep 0)',
      "    const kept = (process.env.FAKE_KEPT_EPOCHS ?? '').split(',').filter((e) => e && Number(e) < Number(last));",
      "    for (const e of [...kept, last]) fs.mkdirSync(`${out}/epoch-${e.padStart(3, '0')}/ema`, { recursive: true });",
      "    fs.appendFileSync(`${out}/metrics.jsonl`, JSON.stringify({ type: 'epoch', epoch: Number(last), step: 2000 }) + '\\n');",
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  fs.mkdirSync(path.join(repo, 'models/default-run'), { recursive: true });
  return { root, repo, runs: path.join(root, 'runs'), log: path.join(root, 'cli.log') };
}

/** The epochs of stage 9 whose averages train-default averages with stage 7's epoch 10 (SOUP_STAGE9_EPOCHS). */
const SOUP_STAGE9_EPOCHS = [7, 13, 19, 24];

function run(t, script, runFolder, { env = {}, status = 0 } = {}) {
  // Stage 7 keeps its best epoch (10) and stage 9 every epoch, as the real runs do.
  const kept = { FAKE_KEPT_EPOCHS: ['10', ...SOUP_STAGE9_EPOCHS].join(',') };
  const r = spawnSync('bash', [path.join(t.repo, 'scripts', script), runFolder], { env: { ...process.env, CLI_LOG: t.log, ...kept, ...env }, encoding: 'utf8' });
  assert.equal(r.status, status, r.stderr);
  const calls = fs.existsSync(t.log) ? fs.readFileSync(t.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
  fs.rmSync(t.log, { force: true });
  return { calls, stderr: r.stderr };
}

const flag = (call, name) => call[call.indexOf(name) + 1];
/** Every value of a repeatable flag, in order. */
const flagValues = (call, name) => call.flatMap((arg, i) => (arg === name ? [call[i + 1]] : []));

/** models/default-run as ship-model.mjs --snapshot-only leaves it: a step checkpoint, metrics, README, run-folder. */
function writeSnapshot(t, { runFolder, earlierStages = 0 }) {
  const snap = path.join(t.repo, 'models/default-run');
  fs.mkdirSync(path.join(snap, 'step-0000042'), { recursive: true });
  fs.writeFileSync(path.join(snap, 'metrics.jsonl'), '{"type":"epoch","epoch":1,"step":42}\n');
  fs.writeFileSync(path.join(snap, 'README.md'), '# snapshot\n');
  if (runFolder !== undefined) fs.writeFileSync(path.join(snap, 'run-folder'), `${runFolder}\n`);
  if (earlierStages > 0) {
    fs.mkdirSync(path.join(snap, 'earlier-stages'));
    for (let i = 1; i <= earlierStages; i++) fs.writeFileSync(path.join(snap, 'earlier-stages', `${i}.jsonl`), '\n');
  }
}

/**
 * Restore a models/default-run copy of stage `stage` (its run-folder and stage - 1 earlier-stages/
 * files), run train-default and check that the copy went into that stage's folder.
 */
function runFromCopyOfStage(t, stage, runOptions) {
  writeSnapshot(t, { runFolder: `default-stage${stage}`, earlierStages: stage - 1 });
  const dir = path.join(t.runs, `default-stage${stage}`);
  const { calls, stderr } = run(t, 'train-default.sh', path.join(t.runs, 'default'), runOptions);
  assert.match(stderr, new RegExp(`continuing from the copy in models/default-run \\(stage ${stage}\\)`));
  assert.ok(fs.existsSync(path.join(dir, 'step-0000042')));
  return { calls, dir, stderr };
}

test('train-lite starts vit-lite-patch4-32 from scratch with its whole plan, then resumes it', () => {
  const t = scratchRepo();
  const lite = path.join(t.runs, 'lite');
  const first = run(t, 'train-lite.sh', lite).calls;
  assert.equal(first.length, 1);
  assert.deepEqual(
    ['--model', '--recipe', '--epochs', '--lr', '--augment', '--augment-after', '--mixup', '--out'].map((name) => flag(first[0], name)),
    ['vit-lite-patch4-32', 'cifar-default', '100', '5e-4', 'randaugment', '29:randaugment-m5', '0', lite],
  );
  assert.ok(!first[0].includes('--pretrained') && !first[0].includes('--resume'));
  assert.deepEqual(flagValues(first[0], '--augment-after'), ['29:randaugment-m5', '85:basic']);
  fs.mkdirSync(path.join(lite, 'step-0000100'));
  const second = run(t, 'train-lite.sh', lite).calls;
  // A resume names the plan's epochs and later augmentation (so a change of plan in the script
  // reaches runs already started) and nothing else of the recipe.
  assert.deepEqual(
    [second[0].includes('--resume'), flag(second[0], '--out'), flag(second[0], '--epochs'), flag(second[0], '--augment-after')],
    [true, lite, '100', '29:randaugment-m5'],
  );
  assert.ok(['--model', '--lr', '--augment', '--mixup', '--drop-path'].every((name) => !second[0].includes(name)));
  // The same switches as the start: a resume's --augment-after replaces the run's.
  assert.deepEqual(flagValues(second[0], '--augment-after'), flagValues(first[0], '--augment-after'));
});

test('a snapshot of the lite run is restored by train-lite and left alone by train-default', () => {
  const t = scratchRepo();
  writeSnapshot(t, { runFolder: 'lite' });
  const stage1 = path.join(t.runs, 'default');
  const defaultCalls = run(t, 'train-default.sh', stage1).calls;
  // Nothing restored: stage 1 starts from scratch (a vit-mini run), not from the lite copy.
  assert.equal(flag(defaultCalls[0], '--model'), 'vit-mini-patch4-32');
  assert.ok(!fs.existsSync(path.join(stage1, 'step-0000042')));

  const lite = path.join(t.runs, 'lite');
  const { calls, stderr } = run(t, 'train-lite.sh', lite);
  assert.match(stderr, /continuing from the copy in models\/default-run/);
  assert.ok(fs.existsSync(path.join(lite, 'step-0000042')) && fs.existsSync(path.join(lite, 'metrics.jsonl')));
  assert.ok(!fs.existsSync(path.join(lite, 'README.md')) && !fs.existsSync(path.join(lite, 'run-folder')));
  assert.deepEqual([calls[0].includes('--resume'), flag(calls[0], '--out')], [true, lite]);
});

test('train-lite into a folder of another name does not take the copy', () => {
  const t = scratchRepo();
  writeSnapshot(t, { runFolder: 'lite' });
  const other = path.join(t.runs, 'lite-2');
  const { calls } = run(t, 'train-lite.sh', other);
  assert.equal(flag(calls[0], '--model'), 'vit-lite-patch4-32');
  assert.ok(!fs.existsSync(path.join(other, 'step-0000042')));
});

test("train-default restores a copy of its own stage (by earlier-stages/), with or without run-folder", () => {
  for (const runFolder of ['default-stage4', undefined]) {
    const t = scratchRepo();
    writeSnapshot(t, { runFolder, earlierStages: 3 });
    const stage4 = path.join(t.runs, 'default-stage4');
    const { calls, stderr } = run(t, 'train-default.sh', path.join(t.runs, 'default'));
    assert.match(stderr, /stage 4/);
    assert.ok(fs.existsSync(path.join(stage4, 'step-0000042')));
    assert.deepEqual(
      [calls[0].includes('--resume'), flag(calls[0], '--out'), flag(calls[0], '--mixup-off-epoch'), flag(calls[0], '--stop-after-epoch')],
      [true, stage4, '28', '33'],
    );
    // stage 4 stopped after its epoch 33: stage 5 starts from it, stage 6 when it is done, stage 7 after stage 6's epoch 11,
    // stage 8 after stage 7's epoch 16, stage 9 after stage 8's epoch 6, the average after stage 9's epoch 24
    assert.deepEqual(calls.slice(1).map((c) => c[0]), ['narrow', 'widen', 'train', 'train', 'train', 'train', 'train', 'average']);
    assert.deepEqual(
      calls.slice(3).map((c) => flag(c, '--out')),
      ['default-stage5', 'default-stage6', 'default-stage7', 'default-stage8', 'default-stage9', 'default-soup'].map((name) => path.join(t.runs, name)),
    );
  }
});

test('train-default restores a copy of stage 5 (four earlier stages) into its folder and resumes it; Ctrl-C stops there', () => {
  const t = scratchRepo();
  writeSnapshot(t, { runFolder: 'default-stage5', earlierStages: 4 });
  const stage5 = path.join(t.runs, 'default-stage5');
  const { calls, stderr } = run(t, 'train-default.sh', path.join(t.runs, 'default'), { env: { FAKE_TRAIN_EXIT: '130' }, status: 130 });
  assert.match(stderr, /stage 5/);
  assert.ok(fs.existsSync(path.join(stage5, 'step-0000042')));
  assert.equal(calls.length, 1);
  assert.deepEqual([calls[0].includes('--resume'), flag(calls[0], '--out'), flag(calls[0], '--mixup-off-epoch')], [true, stage5, '28']);
  assert.ok(!fs.existsSync(path.join(t.runs, 'default-stage6')));
});

/** A stage folder with earlier-stages/ files of these names and these metrics lines. */
function writeStage(dir, { earlier, lines, checkpoint }) {
  fs.mkdirSync(path.join(dir, checkpoint), { recursive: true });
  fs.mkdirSync(path.join(dir, 'earlier-stages'));
  for (const name of earlier) fs.writeFileSync(path.join(dir, 'earlier-stages', `${name}.jsonl`), `{"stage":"${name}"}\n`);
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.map((o) => `${JSON.stringify(o)}\n`).join(''));
}

/** `vitlens average` of stage 7's epoch-010 average and stage 9's SOUP_STAGE9_EPOCHS averages into <stage1>-soup. */
function assertAverage(call, stage1) {
  const epochs = SOUP_STAGE9_EPOCHS.map((e) => path.join(`${stage1}-stage9`, `epoch-${String(e).padStart(3, '0')}`, 'ema'));
  assert.deepEqual(call.slice(0, 2 + epochs.length), ['average', path.join(`${stage1}-stage7`, 'epoch-010', 'ema'), ...epochs]);
  assert.equal(flag(call, '--out'), `${stage1}-soup`);
}

const LATER_STAGE_FLAGS = ['--pretrained', '--image-size', '--epochs', '--lr', '--augment', '--mixup', '--cutmix', '--drop-path', '--out'];

/**
 * A later stage (7, 8, 9) started, not resumed, with these LATER_STAGE_FLAGS values and later augmentation,
 * its earlier-stages/ holding the folder `earlierBefore` and `carried`: [the stage before's file name,
 * its content]. Returns the new stage's earlier-stages folder.
 */
function assertLaterStageStart(call, { flags, augmentAfter, earlierBefore, carried: [carriedName, carriedText] }) {
  assert.ok(!call.includes('--resume') && !call.includes('--stop-after-epoch'));
  assert.deepEqual(LATER_STAGE_FLAGS.map((name) => flag(call, name)), flags);
  assert.deepEqual(flagValues(call, '--augment-after'), augmentAfter);
  const earlier = path.join(flag(call, '--out'), 'earlier-stages');
  assert.deepEqual(fs.readdirSync(earlier).sort(), [...fs.readdirSync(earlierBefore).sort(), carriedName]);
  assert.equal(fs.readFileSync(path.join(earlier, carriedName), 'utf8'), carriedText);
  return earlier;
}

test("stage 5 resumed to its epoch 40 goes on to stage 6 (its averaged weights, lr 2e-4, RandAugment m5, no mixing, stopped after epoch 11), then stage 7 at 40×40, stage 8 at 48×48 and stage 9 back at 40×40", () => {
  const t = scratchRepo();
  const stage1 = path.join(t.runs, 'default');
  const stage5 = `${stage1}-stage5`;
  const line = (o) => `${JSON.stringify(o)}\n`;
  writeStage(stage5, {
    earlier: ['1-default', '2-default-stage2', '3-default-stage3', '4-default-stage4'],
    lines: [{ type: 'epoch', epoch: 40, step: 80 }, { type: 'step', epoch: 41, step: 81 }],
    checkpoint: 'step-0011241',
  });
  // what a start of stage 6 stopped before its first checkpoint left behind
  fs.mkdirSync(path.join(`${stage1}-stage6`, 'earlier-stages'), { recursive: true });
  fs.writeFileSync(path.join(`${stage1}-stage6`, 'earlier-stages', '5-default-stage5.jsonl'), 'stale\n');
  fs.writeFileSync(path.join(`${stage1}-stage6`, 'metrics.jsonl'), 'stale\n');
  const { calls, stderr } = run(t, 'train-default.sh', stage1, { env: { FAKE_FINAL_EPOCH: '40' } });
  assert.equal(calls.length, 6);
  // (the fake run then wrote its own epoch 11: the stale line is gone)
  assert.ok(!fs.readFileSync(path.join(`${stage1}-stage6`, 'metrics.jsonl'), 'utf8').includes('stale'));
  assert.deepEqual([calls[0].includes('--resume'), flag(calls[0], '--out')], [true, stage5]);
  const stage6 = calls[1];
  assert.ok(!stage6.includes('--resume'));
  assert.deepEqual(
    ['--pretrained', '--epochs', '--lr', '--augment', '--mixup', '--cutmix', '--drop-path', '--out', '--stop-after-epoch'].map((name) => flag(stage6, name)),
    [path.join(stage5, 'epoch-040', 'ema'), '30', '2e-4', 'randaugment-m5', '0', '0', '0.1', `${stage1}-stage6`, '11'],
  );
  assert.deepEqual(flagValues(stage6, '--augment-after'), ['22:basic']);
  const earlier6 = path.join(`${stage1}-stage6`, 'earlier-stages');
  assert.deepEqual(fs.readdirSync(earlier6).sort(), ['1-default.jsonl', '2-default-stage2.jsonl', '3-default-stage3.jsonl', '4-default-stage4.jsonl', '5-default-stage5.jsonl']);
  assert.equal(fs.readFileSync(path.join(earlier6, '5-default-stage5.jsonl'), 'utf8'), line({ type: 'epoch', epoch: 40, step: 80 }));

  const earlier7 = assertLaterStageStart(calls[2], {
    flags: [path.join(`${stage1}-stage6`, 'epoch-011', 'ema'), '40', '16', '1e-4', 'randaugment-m5', '0', '0', '0.1', `${stage1}-stage7`],
    augmentAfter: ['12:basic'],
    earlierBefore: earlier6,
    carried: ['6-default-stage6.jsonl', line({ type: 'epoch', epoch: 11, step: 1000 })],
  });
  const earlier8 = assertLaterStageStart(calls[3], {
    flags: [path.join(`${stage1}-stage7`, 'epoch-016', 'ema'), '48', '6', '7e-5', 'randaugment-m5', '0', '0', '0.1', `${stage1}-stage8`],
    augmentAfter: ['4:basic'],
    earlierBefore: earlier7,
    carried: ['7-default-stage7.jsonl', line({ type: 'epoch', epoch: 16, step: 2000 })],
  });
  assertLaterStageStart(calls[4], {
    flags: [path.join(`${stage1}-stage8`, 'epoch-006', 'ema'), '40', '24', '1.5e-4', 'randaugment', '0.8', '1', '0.1', `${stage1}-stage9`],
    augmentAfter: ['14:randaugment-m5'],
    earlierBefore: earlier8,
    carried: ['8-default-stage8.jsonl', line({ type: 'epoch', epoch: 6, step: 2000 })],
  });
  assert.equal(flag(calls[4], '--mixup-off-epoch'), '14');
  assert.equal(flag(calls[4], '--keep'), '0'); // every epoch stays on disk for the average
  // then the average of stage 7's best and stage 9's chosen epochs, which ends the script
  assertAverage(calls[5], stage1);
  assert.match(stderr, /done; ship it with: node scripts\/ship-model\.mjs \S+default-stage9 --average \S+default-soup/);
});

test("stage 6 resumes to its epoch 11 with the script's later augmentation; Ctrl-C stops there; then stage 7 starts, and resumes", () => {
  const t = scratchRepo();
  const stage1 = path.join(t.runs, 'default');
  const stage6 = `${stage1}-stage6`;
  const stage7 = `${stage1}-stage7`;
  const earlier = ['1-default', '2-default-stage2', '3-default-stage3', '4-default-stage4', '5-default-stage5'];
  writeStage(stage6, { earlier, lines: [{ type: 'epoch', epoch: 10, step: 3520 }], checkpoint: 'step-0003525' });

  const stopped = run(t, 'train-default.sh', stage1, { env: { FAKE_TRAIN_EXIT: '130' }, status: 130 }).calls;
  assert.equal(stopped.length, 1);
  assert.ok(!fs.existsSync(stage7));

  const { calls } = run(t, 'train-default.sh', stage1);
  assert.equal(calls.length, 5); // stage 6 to its epoch 11, stage 7, stage 8, stage 9, the average
  // a resume names the plan's later augmentation and where it stops, and nothing else of the recipe
  assert.deepEqual(
    [calls[0].includes('--resume'), flag(calls[0], '--out'), flagValues(calls[0], '--augment-after'), flag(calls[0], '--stop-after-epoch')],
    [true, stage6, ['22:basic'], '11'],
  );
  assert.ok(['--pretrained', '--lr', '--augment', '--mixup'].every((name) => !calls[0].includes(name)));
  assert.equal(flag(calls[1], '--pretrained'), path.join(stage6, 'epoch-011', 'ema'));
  assert.equal(fs.readdirSync(path.join(stage7, 'earlier-stages')).length, 6);
  fs.rmSync(`${stage1}-stage8`, { recursive: true });
  fs.rmSync(`${stage1}-stage9`, { recursive: true });
  fs.rmSync(path.join(stage7, 'epoch-016'), { recursive: true });
  fs.rmSync(path.join(stage7, 'epoch-010'), { recursive: true });

  // stage 7 resumes with its later augmentation only, though stage 6's checkpoints are still there;
  // Ctrl-C stops it before stage 8
  fs.mkdirSync(path.join(stage7, 'step-0000100'));
  const again = run(t, 'train-default.sh', stage1, { env: { FAKE_TRAIN_EXIT: '130' }, status: 130 }).calls;
  assert.equal(again.length, 1);
  assert.deepEqual([again[0].includes('--resume'), flag(again[0], '--out'), flagValues(again[0], '--augment-after')], [true, stage7, ['12:basic']]);
  assert.ok(['--pretrained', '--image-size', '--lr', '--augment', '--stop-after-epoch'].every((name) => !again[0].includes(name)));
  assert.ok(!fs.existsSync(`${stage1}-stage8`));
});

test('train-default restores a copy of stage 6 (five earlier stages) into its folder and resumes it to its epoch 11', () => {
  const t = scratchRepo();
  const { calls, dir: stage6 } = runFromCopyOfStage(t, 6, { env: { FAKE_TRAIN_EXIT: '130' }, status: 130 });
  assert.deepEqual([calls.length, calls[0].includes('--resume'), flag(calls[0], '--out'), flag(calls[0], '--stop-after-epoch')], [1, true, stage6, '11']);
});

test('train-default restores a copy of stage 7 (six earlier stages) into its folder and resumes it, then starts stage 8 (and 9 after it)', () => {
  const t = scratchRepo();
  const { calls, dir: stage7 } = runFromCopyOfStage(t, 7, { env: { FAKE_FINAL_EPOCH: '16' } });
  assert.deepEqual([calls.length, calls[0].includes('--resume'), flag(calls[0], '--out'), flagValues(calls[0], '--augment-after')], [4, true, stage7, ['12:basic']]);
  assertAverage(calls[3], path.join(t.runs, 'default'));
  assert.deepEqual([flag(calls[1], '--pretrained'), flag(calls[1], '--image-size')], [path.join(stage7, 'epoch-016', 'ema'), '48']);
  assert.equal(fs.readdirSync(path.join(t.runs, 'default-stage8', 'earlier-stages')).length, 7);
});

test("a copy of stage 7's end (epoch-016) restores into its folder and starts stage 8 from its average", () => {
  const t = scratchRepo();
  writeSnapshot(t, { runFolder: 'default-stage7', earlierStages: 6 });
  const snap = path.join(t.repo, 'models/default-run');
  fs.renameSync(path.join(snap, 'step-0000042'), path.join(snap, 'epoch-016'));
  fs.mkdirSync(path.join(snap, 'epoch-016', 'ema'));
  fs.writeFileSync(path.join(snap, 'metrics.jsonl'), '{"type":"epoch","epoch":16,"step":5632}\n');
  const stage7 = path.join(t.runs, 'default-stage7');
  const { calls } = run(t, 'train-default.sh', path.join(t.runs, 'default'), { env: { FAKE_TRAIN_EXIT: '130' }, status: 130 });
  assert.equal(calls.length, 1);
  assert.ok(!calls[0].includes('--resume'));
  assert.deepEqual([flag(calls[0], '--pretrained'), flag(calls[0], '--out')], [path.join(stage7, 'epoch-016', 'ema'), path.join(t.runs, 'default-stage8')]);
  assert.equal(
    fs.readFileSync(path.join(t.runs, 'default-stage8', 'earlier-stages', '7-default-stage7.jsonl'), 'utf8'),
    '{"type":"epoch","epoch":16,"step":5632}\n',
  );
});

test('a stage 7 resume that ends without its epoch 16 stops with what to do, before stage 8', () => {
  const t = scratchRepo();
  writeStage(path.join(t.runs, 'default-stage7'), { earlier: ['1', '2', '3', '4', '5', '6'], lines: [], checkpoint: 'step-0004598' });
  const { calls, stderr } = run(t, 'train-default.sh', path.join(t.runs, 'default'), { status: 1 });
  assert.equal(calls.length, 1);
  assert.match(stderr, /stage 7 stopped without .*epoch-016: run this again to resume it/);
  assert.ok(!fs.existsSync(path.join(t.runs, 'default-stage8')));
});

test('train-default restores a copy of stage 8 (seven earlier stages) into its folder and resumes it with its later augmentation only, then starts stage 9', () => {
  const t = scratchRepo();
  // stage 7's epoch 10 is not in a copy of stage 8: after stage 9 the average stops, naming it
  const { calls, dir: stage8, stderr } = runFromCopyOfStage(t, 8, { env: { FAKE_FINAL_EPOCH: '6' }, status: 1 });
  assert.match(stderr, /the average needs \S+default-stage7\/epoch-010\/ema, not on disk \(a run continued from the copy in models\/default-run/);
  assert.deepEqual([calls.length, calls[0].includes('--resume'), flag(calls[0], '--out'), flagValues(calls[0], '--augment-after')], [2, true, stage8, ['4:basic']]);
  assert.ok(['--pretrained', '--image-size', '--lr', '--augment', '--epochs'].every((name) => !calls[0].includes(name)));
  assert.deepEqual([flag(calls[1], '--pretrained'), flag(calls[1], '--image-size')], [path.join(stage8, 'epoch-006', 'ema'), '40']);
  assert.equal(fs.readdirSync(path.join(t.runs, 'default-stage9', 'earlier-stages')).length, 8);
});

test('a stage 8 resume that ends without its epoch 6 stops with what to do, before stage 9', () => {
  const t = scratchRepo();
  writeStage(path.join(t.runs, 'default-stage8'), { earlier: ['1', '2', '3', '4', '5', '6', '7'], lines: [], checkpoint: 'step-0000900' });
  const { calls, stderr } = run(t, 'train-default.sh', path.join(t.runs, 'default'), { status: 1 });
  assert.equal(calls.length, 1);
  assert.match(stderr, /stage 8 stopped without .*epoch-006: run this again to resume it/);
  assert.ok(!fs.existsSync(path.join(t.runs, 'default-stage9')));
});

test("a copy of stage 8's end (epoch-006) restores into its folder and starts stage 9 from its average, which then resumes with its plan's mixing and later augmentation only", () => {
  const t = scratchRepo();
  writeSnapshot(t, { runFolder: 'default-stage8', earlierStages: 7 });
  const snap = path.join(t.repo, 'models/default-run');
  fs.renameSync(path.join(snap, 'step-0000042'), path.join(snap, 'epoch-006'));
  fs.mkdirSync(path.join(snap, 'epoch-006', 'ema'));
  fs.writeFileSync(path.join(snap, 'metrics.jsonl'), '{"type":"epoch","epoch":6,"step":2112}\n');
  const stage8 = path.join(t.runs, 'default-stage8');
  const stage9 = path.join(t.runs, 'default-stage9');
  const { calls } = run(t, 'train-default.sh', path.join(t.runs, 'default'), { env: { FAKE_TRAIN_EXIT: '130' }, status: 130 });
  assert.equal(calls.length, 1);
  assert.ok(!calls[0].includes('--resume'));
  assert.deepEqual([flag(calls[0], '--pretrained'), flag(calls[0], '--out')], [path.join(stage8, 'epoch-006', 'ema'), stage9]);
  assert.equal(fs.readFileSync(path.join(stage9, 'earlier-stages', '8-default-stage8.jsonl'), 'utf8'), '{"type":"epoch","epoch":6,"step":2112}\n');

  fs.mkdirSync(path.join(stage9, 'step-0001000'));
  const again = run(t, 'train-default.sh', path.join(t.runs, 'default'), { env: { FAKE_TRAIN_EXIT: '130' }, status: 130 }).calls;
  assert.equal(again.length, 1);
  assert.deepEqual(
    [again[0].includes('--resume'), flag(again[0], '--out'), flag(again[0], '--mixup-off-epoch'), flagValues(again[0], '--augment-after'), flag(again[0], '--keep')],
    [true, stage9, '14', ['14:randaugment-m5'], '0'],
  );
  assert.ok(['--pretrained', '--image-size', '--lr', '--augment', '--mixup', '--epochs'].every((name) => !again[0].includes(name)));
});

test('train-default restores a copy of stage 9 (eight earlier stages) into its folder and resumes it', () => {
  const t = scratchRepo();
  const { calls, dir: stage9 } = runFromCopyOfStage(t, 9, { env: { FAKE_TRAIN_EXIT: '130' }, status: 130 });
  assert.deepEqual([calls.length, calls[0].includes('--resume'), flag(calls[0], '--out'), flag(calls[0], '--mixup-off-epoch')], [1, true, stage9, '14']);
});

test('a stage 9 resume that ends without its epoch 24 stops with what to do, before the average', () => {
  const t = scratchRepo();
  writeStage(path.join(t.runs, 'default-stage9'), { earlier: ['1', '2', '3', '4', '5', '6', '7', '8'], lines: [], checkpoint: 'step-0004244' });
  const { calls, stderr } = run(t, 'train-default.sh', path.join(t.runs, 'default'), { status: 1 });
  assert.deepEqual(calls.map((c) => c[0]), ['train']);
  assert.match(stderr, /stage 9 stopped without .*epoch-024: run this again to resume it/);
});

test("a finished stage 9 makes the average of stage 7's epoch 10 and its chosen epochs, once; a missing one is named", () => {
  const t = scratchRepo();
  const stage1 = path.join(t.runs, 'default');
  for (const e of [...SOUP_STAGE9_EPOCHS, 24]) fs.mkdirSync(path.join(`${stage1}-stage9`, `epoch-${String(e).padStart(3, '0')}`, 'ema'), { recursive: true });
  const missing = run(t, 'train-default.sh', stage1, { status: 1 });
  assert.equal(missing.calls.length, 0);
  assert.match(missing.stderr, /the average needs \S+default-stage7\/epoch-010\/ema, not on disk/);

  fs.mkdirSync(path.join(`${stage1}-stage7`, 'epoch-010', 'ema'), { recursive: true });
  fs.mkdirSync(`${stage1}-soup`); // what an average stopped before its weights were written left behind
  fs.writeFileSync(path.join(`${stage1}-soup`, 'config.json'), '{}');
  const { calls, stderr } = run(t, 'train-default.sh', stage1);
  assert.equal(calls.length, 1);
  assertAverage(calls[0], stage1);
  assert.ok(!fs.existsSync(`${stage1}-soup`)); // cleared for the CLI, which refuses a folder holding a checkpoint
  assert.match(stderr, /done; ship it with/);

  fs.mkdirSync(`${stage1}-soup`);
  fs.writeFileSync(path.join(`${stage1}-soup`, 'model.safetensors'), 'weights');
  const done = run(t, 'train-default.sh', stage1);
  assert.equal(done.calls.length, 0);
  assert.match(done.stderr, /done: \S+default-soup holds the average of stage 7 and 9/);
});

test("stage 5 starts from stage 4's epoch 33: narrowed, re-split with more noise, then trained, with stage 4's metrics to epoch 33", () => {
  const t = scratchRepo();
  const stage1 = path.join(t.runs, 'default');
  const stage4 = `${stage1}-stage4`;
  fs.mkdirSync(path.join(stage4, 'epoch-033', 'ema'), { recursive: true });
  fs.mkdirSync(path.join(stage4, 'earlier-stages'));
  for (const name of ['1-default', '2-default-stage2', '3-default-stage3']) fs.writeFileSync(path.join(stage4, 'earlier-stages', `${name}.jsonl`), `{"stage":"${name}"}\n`);
  const line = (o) => `${JSON.stringify(o)}\n`;
  fs.writeFileSync(path.join(stage4, 'metrics.jsonl'), line({ type: 'epoch', epoch: 33, step: 66 }) + line({ type: 'step', epoch: 34, step: 67 }) + line({ type: 'epoch', epoch: 34, step: 68 }));
  const { calls } = run(t, 'train-default.sh', stage1, { env: { FAKE_TRAIN_EXIT: '130' }, status: 130 });
  assert.deepEqual(calls.map((c) => c[0]), ['narrow', 'widen', 'train']);
  assert.deepEqual([calls[0][1], flag(calls[0], '--out')], [path.join(stage4, 'epoch-033', 'ema'), `${stage1}-narrowed`]);
  assert.deepEqual([calls[1][1], flag(calls[1], '--out'), flag(calls[1], '--noise-std')], [`${stage1}-narrowed`, `${stage1}-resplit`, '0.05']);
  const train = calls[2];
  assert.deepEqual(
    ['--pretrained', '--epochs', '--lr', '--mixup-off-epoch', '--out'].map((name) => flag(train, name)),
    [`${stage1}-resplit`, '40', '5e-4', '28', `${stage1}-stage5`],
  );
  assert.ok(!train.includes('--resume'));
  const earlier = path.join(`${stage1}-stage5`, 'earlier-stages');
  assert.deepEqual(fs.readdirSync(earlier).sort(), ['1-default.jsonl', '2-default-stage2.jsonl', '3-default-stage3.jsonl', '4-default-stage4.jsonl']);
  assert.equal(fs.readFileSync(path.join(earlier, '4-default-stage4.jsonl'), 'utf8'), line({ type: 'epoch', epoch: 33, step: 66 }));
});

test('ship-model --snapshot-only copies last and the metrics up to its step, though the run wrote on', () => {
  const t = scratchRepo();
  for (const f of ['ship-model.mjs', 'float16-weights.mjs']) fs.copyFileSync(path.join(SCRIPTS, f), path.join(t.repo, 'scripts', f));
  fs.writeFileSync(path.join(t.repo, 'models/default-run/README.md'), '# the run copy\n');
  const lite = path.join(t.runs, 'lite');
  fs.mkdirSync(path.join(lite, 'epoch-002', 'ema'), { recursive: true });
  fs.writeFileSync(path.join(lite, 'epoch-002', 'trainer_state.json'), JSON.stringify({ step: 4, epoch: 2 }));
  fs.writeFileSync(path.join(lite, 'epoch-002', 'model.safetensors'), 'weights');
  fs.symlinkSync('epoch-002', path.join(lite, 'last'));
  const line = (o) => `${JSON.stringify(o)}\n`;
  const upToCheckpoint = [1, 2, 3, 4].map((step) => line({ type: 'step', step, loss: 1 })).join('') + line({ type: 'epoch', epoch: 2, step: 4 });
  // steps 5 and 6 of epoch 3 were written after the checkpoint, and the last line is torn
  fs.writeFileSync(path.join(lite, 'metrics.jsonl'), `${upToCheckpoint}${line({ type: 'step', step: 5 })}${line({ type: 'step', step: 6 })}{"type":"st`);

  const r = spawnSync(process.execPath, [path.join(t.repo, 'scripts', 'ship-model.mjs'), lite, '--snapshot-only'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const snap = path.join(t.repo, 'models/default-run');
  assert.equal(fs.readFileSync(path.join(snap, 'metrics.jsonl'), 'utf8'), upToCheckpoint);
  assert.equal(fs.readFileSync(path.join(snap, 'epoch-002', 'model.safetensors'), 'utf8'), 'weights');
  assert.ok(fs.statSync(path.join(snap, 'epoch-002', 'ema')).isDirectory());
  assert.equal(fs.readFileSync(path.join(snap, 'run-folder'), 'utf8'), 'lite\n');
  assert.equal(fs.readFileSync(path.join(snap, 'README.md'), 'utf8'), '# the run copy\n');
  // the run's own file is left as it was
  assert.match(fs.readFileSync(path.join(lite, 'metrics.jsonl'), 'utf8'), /"step":6/);
});

/** The scratch repository with ship-model.mjs, and a folder as `vitlens average` writes it of two checkpoints with training states. */
function averageToShip(t, heldOut = { valPerClass: 500, seed: 42 }) {
  for (const f of ['ship-model.mjs', 'float16-weights.mjs']) fs.copyFileSync(path.join(SCRIPTS, f), path.join(t.repo, 'scripts', f));
  const sources = ['default-stage7/epoch-010', 'default-stage9/epoch-019'].map((name) => path.join(t.runs, name));
  for (const dir of sources) {
    fs.mkdirSync(path.join(dir, 'ema'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'trainer_state.json'), JSON.stringify({ step: 19, config: { valPerClass: 500, seed: 42 } }));
  }
  const soup = path.join(t.runs, 'default-soup');
  fs.mkdirSync(soup);
  const record = { format: 'vitlens-average', version: 1, imageSize: 40, sources: sources.map((dir) => ({ checkpoint: path.join(dir, 'ema'), weight: 0.5 })), heldOut };
  fs.writeFileSync(path.join(soup, 'average.json'), JSON.stringify(record));
  return { soup, stage9: path.dirname(sources[1]) };
}

function shipModel(t, args, env = {}) {
  const r = spawnSync(process.execPath, [path.join(t.repo, 'scripts', 'ship-model.mjs'), ...args], { cwd: t.repo, encoding: 'utf8', env: { ...process.env, CLI_LOG: t.log, ...env } });
  const calls = fs.existsSync(t.log) ? fs.readFileSync(t.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
  fs.rmSync(t.log, { force: true });
  return { ...r, calls };
}

test('ship-model --average measures the average on the held-out split before anything, and refuses one below the shipped model', () => {
  const t = scratchRepo();
  const { soup, stage9 } = averageToShip(t);
  const dry = shipModel(t, [stage9, '--average', soup, '--dry-run'], { FAKE_ACCURACY: '0.853' });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /default-soup average of 2 85\.30%/);
  assert.deepEqual(dry.calls.map((c) => [c[0], flag(c, '--checkpoint'), flag(c, '--split')]), [['evaluate', soup, 'val']]);

  fs.mkdirSync(path.join(t.repo, 'results'));
  fs.writeFileSync(path.join(t.repo, 'results/evaluation_results.json'), JSON.stringify({ accuracy: 0.86, heldOut: { from: 'train' } }));
  const below = shipModel(t, [stage9, '--average', soup], { FAKE_ACCURACY: '0.853' });
  assert.equal(below.status, 1);
  assert.match(below.stderr, /default-soup \(average\) has 85\.30% on the held-out split, below the shipped model's 86\.00%/);
  assert.ok(!fs.existsSync(path.join(t.repo, 'models/default')));
});

test('ship-model --average names what is wrong: no average.json, no held-out split, --checkpoint beside it', () => {
  const t = scratchRepo();
  const { soup, stage9 } = averageToShip(t, null);
  const noSplit = shipModel(t, [stage9, '--average', soup]);
  assert.notEqual(noSplit.status, 0);
  assert.match(noSplit.stderr, /average\.json: records no held-out split \(its sources held out different images\)/);
  fs.rmSync(path.join(soup, 'average.json'));
  const missing = shipModel(t, [stage9, '--average', soup]);
  assert.match(missing.stderr, /--average \S+default-soup: no average\.json; expected a folder written by `vitlens average`/);
  const both = shipModel(t, [stage9, '--average', soup, '--checkpoint', 'epoch-019']);
  assert.match(both.stderr, /--average ships the averaged checkpoint; it takes no --checkpoint or --weights/);
  assert.deepEqual([noSplit.calls, missing.calls, both.calls], [[], [], []]); // nothing evaluated
});
