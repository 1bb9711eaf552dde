#!/usr/bin/env node
// Ship a checkpoint of a training run as the default model (models/default), keep the run's latest
// checkpoint in the repository for the next session (models/default-run), and regenerate what is
// measured with the shipped model (results/).
//
//   node scripts/ship-model.mjs <run folder> [--checkpoint epoch-NNN] [--weights raw|ema] [--dtype f16|f32]
//                               [--dry-run] [--copy-only] [--snapshot-only] [--force] [--title <learning-curve title>]
//   node scripts/ship-model.mjs <run folder> --average <folder made by `vitlens average`> [...]
//
// The shipped weights are stored as float16 (--dtype f16, the default: half the download for the
// page and the npm package; every figure in results/ is measured with them, loaders upcast to
// float32); --dtype f32 copies them as trained. models/default-run keeps float32 for exact resume.
//
// Without --checkpoint it takes the checkpoint folder still on disk whose validation accuracy (raw
// weights or their average, whichever is higher, from metrics.jsonl) is best. --copy-only stops
// after the copies; otherwise it rebuilds the CLI (which bundles models/default) and runs the
// commands listed in results/README.md with the native tensorflow backend. --dry-run only lists the
// candidates. --average ships an average of checkpoints (`vitlens average`, e.g. of the run's epochs
// and an earlier stage's) instead of one epoch: its average.json goes with it, and the trainer state
// of the last of its sources that has one (what `evaluate --split val` and `serve` read the held-out
// split from); it is evaluated on the held-out split first. It refuses a checkpoint that scored below the shipped model (results/
// evaluation_results.json) unless --force. --snapshot-only refreshes models/default-run alone (what a session does when it stops
// without shipping). A run that is a later stage (started with --pretrained from an earlier run)
// keeps the earlier stages' metrics in <run>/earlier-stages/*.jsonl (scripts/train-default.sh puts
// them there): they travel with the snapshot and the learning curve covers every stage.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyAsFloat16 } from './float16-weights.mjs';
import { readEpochs, untilStep } from './metrics-jsonl.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHIPPED = path.join(REPO, 'models/default');
const SNAPSHOT = path.join(REPO, 'models/default-run');
const MODEL_FILES = ['config.json', 'preprocessor_config.json', 'model.safetensors'];
const PNPM = ['-y', 'pnpm@10.34.8'];
const EARLIER = 'earlier-stages';
const RUN_FOLDER_FILE = 'run-folder';
const AVERAGE_FILE = 'average.json';

function parseArgs(argv) {
  const args = { run: undefined, checkpoint: undefined, weights: undefined, average: undefined, dtype: 'f16', copyOnly: false, snapshotOnly: false, dryRun: false, force: false, title: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--checkpoint') args.checkpoint = argv[++i];
    else if (a === '--weights') args.weights = argv[++i];
    else if (a === '--dtype') args.dtype = argv[++i];
    else if (a === '--average') args.average = argv[++i];
    else if (a === '--copy-only') args.copyOnly = true;
    else if (a === '--dry-run') args.dryRun = true;
    else if (a === '--snapshot-only') args.snapshotOnly = true;
    else if (a === '--title') args.title = argv[++i];
    else if (a === '--force') args.force = true;
    else if (a.startsWith('--')) throw new Error(`unknown option '${a}'; valid: --checkpoint <epoch-NNN>, --weights raw|ema, --average <folder>, --dtype f16|f32, --dry-run, --copy-only, --snapshot-only, --force, --title <text>`);
    else args.run = a;
  }
  if (!args.run) throw new Error('usage: node scripts/ship-model.mjs <run folder> [--checkpoint epoch-NNN] [--weights raw|ema] [--copy-only]');
  if (args.weights !== undefined && args.weights !== 'raw' && args.weights !== 'ema') {
    throw new Error(`--weights: expected 'raw' or 'ema', got '${args.weights}'`);
  }
  if (args.dtype !== 'f16' && args.dtype !== 'f32') throw new Error(`--dtype: expected 'f16' or 'f32', got '${args.dtype}'`);
  if (args.average !== undefined && (args.checkpoint !== undefined || args.weights !== undefined)) {
    throw new Error('--average ships the averaged checkpoint; it takes no --checkpoint or --weights');
  }
  return args;
}

/** The epoch checkpoints still on disk with their validation accuracies, best first. */
function candidates(run) {
  const metricsFile = path.join(run, 'metrics.jsonl');
  if (!fs.existsSync(metricsFile)) throw new Error(`${metricsFile}: not found; expected the run's metrics.jsonl`);
  const byEpoch = new Map(readEpochs(metricsFile).map((e) => [e.epoch, e]));
  const found = [];
  for (const name of fs.readdirSync(run)) {
    const match = /^epoch-(\d+)$/.exec(name);
    const metrics = match ? byEpoch.get(Number(match[1])) : undefined;
    if (!metrics) continue;
    found.push({ name, weights: 'raw', accuracy: metrics.val_accuracy, epoch: metrics.epoch });
    if (metrics.val_accuracy_ema !== undefined && fs.existsSync(path.join(run, name, 'ema/model.safetensors'))) {
      found.push({ name, weights: 'ema', accuracy: metrics.val_accuracy_ema, epoch: metrics.epoch });
    }
  }
  return found.sort((a, b) => b.accuracy - a.accuracy || b.epoch - a.epoch);
}

/** Replace `target` by a fresh copy built in a sibling temporary folder, so it is never half-written. */
async function replaceFolder(target, fill) {
  const staging = `${target}.staging-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  await fill(staging);
  const old = `${target}.old-${process.pid}`;
  if (fs.existsSync(target)) fs.renameSync(target, old);
  fs.renameSync(staging, target);
  fs.rmSync(old, { recursive: true, force: true });
}

function run(command, args, env = {}) {
  console.log(`$ ${[command, ...args].join(' ')}`);
  execFileSync(command, args, { cwd: REPO, stdio: 'inherit', env: { ...process.env, ...env } });
}

/** The metrics.jsonl of every stage of the run, the earliest first, the run's own last. */
function stageMetrics(runDir) {
  const earlier = path.join(runDir, EARLIER);
  const files = fs.existsSync(earlier) ? fs.readdirSync(earlier).filter((f) => f.endsWith('.jsonl')).sort() : [];
  return [...files.map((f) => path.join(earlier, f)), path.join(runDir, 'metrics.jsonl')];
}

/**
 * models/default-run ← the run's `last` checkpoint and its metrics up to that checkpoint's step
 * (everything a resume needs; the run may go on training while this copies).
 */
async function snapshotRun(runDir) {
  const last = fs.realpathSync(path.join(runDir, 'last'));
  const snapshotReadme = fs.readFileSync(path.join(SNAPSHOT, 'README.md'), 'utf8');
  await replaceFolder(SNAPSHOT, (staging) => {
    const copy = path.join(staging, path.basename(last));
    fs.cpSync(last, copy, { recursive: true, dereference: true });
    // the copied state's step: `last` may move on to a newer checkpoint while this runs
    const { step } = JSON.parse(fs.readFileSync(path.join(copy, 'trainer_state.json'), 'utf8'));
    fs.writeFileSync(path.join(staging, 'metrics.jsonl'), untilStep(path.join(runDir, 'metrics.jsonl'), step));
    if (fs.existsSync(path.join(runDir, EARLIER))) fs.cpSync(path.join(runDir, EARLIER), path.join(staging, EARLIER), { recursive: true });
    fs.writeFileSync(path.join(staging, 'README.md'), snapshotReadme);
    // Which run folder this is a copy of: the training scripts restore it only into a folder of that name.
    fs.writeFileSync(path.join(staging, RUN_FOLDER_FILE), `${path.basename(runDir)}\n`);
  });
  console.log(`models/default-run now holds ${path.basename(last)} and the run's metrics.jsonl up to its step`);
}

/** The shipped model's measured held-out accuracy, when results/ has it for the same split. */
function shippedAccuracy() {
  const file = path.join(REPO, 'results/evaluation_results.json');
  if (!fs.existsSync(file)) return undefined;
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  return report.heldOut?.from === 'train' && report.subset === undefined && typeof report.accuracy === 'number' ? report.accuracy : undefined;
}

const CLI = 'apps/cli/dist/bin.js';
const DATA = process.env.VITLENS_CIFAR10_JPEG ?? '../shared/data/cifar10-jpeg';

/** The folder's average.json (what `vitlens average` wrote), checked. */
function readAverageRecord(dir) {
  const file = path.join(dir, AVERAGE_FILE);
  if (!fs.existsSync(file)) throw new Error(`--average ${dir}: no ${AVERAGE_FILE}; expected a folder written by \`vitlens average\``);
  const record = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (record.format !== 'vitlens-average' || !Array.isArray(record.sources)) throw new Error(`${file}: expected format "vitlens-average" with sources`);
  if (!record.heldOut) throw new Error(`${file}: records no held-out split (its sources held out different images); it cannot be measured on the held-out split`);
  return record;
}

/** The trainer_state.json of the last source that has one: its own folder's, or for <checkpoint>/ema the checkpoint's. */
function sourceTrainerState(record) {
  for (const { checkpoint } of [...record.sources].reverse()) {
    const dir = path.resolve(checkpoint);
    for (const folder of [dir, ...(path.basename(dir) === 'ema' ? [path.dirname(dir)] : [])]) {
      const file = path.join(folder, 'trainer_state.json');
      if (fs.existsSync(file)) return file;
    }
  }
  throw new Error(`none of the averaged checkpoints (${record.sources.map((s) => s.checkpoint).join(', ')}) has a trainer_state.json here (paths resolved from ${process.cwd()})`);
}

/** `vitlens evaluate --split val` of a checkpoint folder: its held-out top-1 accuracy. */
function heldOutAccuracy(dir) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ship-model-eval-'));
  try {
    run('node', [CLI, 'evaluate', '--checkpoint', dir, '--data', DATA, '--split', 'val', '--backend', 'tensorflow', '--no-progress', '--out', out]);
    return JSON.parse(fs.readFileSync(path.join(out, 'evaluation_results.json'), 'utf8')).accuracy;
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** What to ship: the averaged folder (--average), or the run's best epoch checkpoint still on disk that matches the flags. */
function chooseCheckpoint(runDir) {
  if (args.average) {
    const dir = path.resolve(args.average);
    const record = readAverageRecord(dir);
    const chosen = { name: path.basename(dir), weights: 'average', weightsDir: dir, stateFile: sourceTrainerState(record), accuracy: heldOutAccuracy(dir), epoch: undefined };
    if (args.dryRun) {
      console.log(`${chosen.name} average of ${record.sources.length} ${(chosen.accuracy * 100).toFixed(2)}%`);
      process.exit(0);
    }
    return chosen;
  }
  let choices = candidates(runDir);
  if (args.checkpoint) choices = choices.filter((c) => c.name === args.checkpoint);
  if (args.weights) choices = choices.filter((c) => c.weights === args.weights);
  if (args.dryRun) {
    for (const c of choices) console.log(`${c.name} ${c.weights.padEnd(3)} ${(c.accuracy * 100).toFixed(2)}%`);
    process.exit(0);
  }
  const chosen = choices[0];
  if (!chosen) throw new Error(`${runDir}: no epoch checkpoint matches (checkpoint ${args.checkpoint ?? 'any'}, weights ${args.weights ?? 'any'})`);
  const checkpointDir = path.join(runDir, chosen.name);
  const weightsDir = chosen.weights === 'ema' ? path.join(checkpointDir, 'ema') : checkpointDir;
  return { ...chosen, weightsDir, stateFile: path.join(checkpointDir, 'trainer_state.json') };
}

const args = parseArgs(process.argv.slice(2));
const runDir = path.resolve(args.run);
if (args.snapshotOnly) {
  await snapshotRun(runDir);
  process.exit(0);
}
const chosen = chooseCheckpoint(runDir);
// A later stage's first epochs (a warm restart) can be worse than what is shipped: keep the better one.
const shipped = shippedAccuracy();
if (shipped !== undefined && chosen.accuracy < shipped && !args.force) {
  console.error(
    `ship-model: ${chosen.name} (${chosen.weights}) has ${(chosen.accuracy * 100).toFixed(2)}% on the held-out split, below the shipped model's ` +
      `${(shipped * 100).toFixed(2)}% (results/evaluation_results.json); not shipped. --force ships it anyway; --snapshot-only keeps the run's checkpoint.`,
  );
  process.exit(1);
}
const what = chosen.epoch === undefined ? `${chosen.name} (averaged checkpoints)` : `${chosen.name} (${chosen.weights} weights, epoch ${chosen.epoch})`;
console.log(`shipping ${what}: ${(chosen.accuracy * 100).toFixed(2)}% on the held-out split`);

const { weightsDir } = chosen;
const readme = fs.readFileSync(path.join(SHIPPED, 'README.md'), 'utf8');
await replaceFolder(SHIPPED, async (staging) => {
  for (const file of MODEL_FILES) fs.copyFileSync(path.join(weightsDir, file), path.join(staging, file));
  if (args.dtype === 'f16') await copyAsFloat16(path.join(weightsDir, 'model.safetensors'), path.join(staging, 'model.safetensors'));
  // The trainer state names the seed and split, so `evaluate --split val` rebuilds the same held-out images.
  fs.copyFileSync(chosen.stateFile, path.join(staging, 'trainer_state.json'));
  // An average says what it averaged.
  if (chosen.weights === 'average') fs.copyFileSync(path.join(weightsDir, AVERAGE_FILE), path.join(staging, AVERAGE_FILE));
  fs.writeFileSync(path.join(staging, 'README.md'), readme);
});

await snapshotRun(runDir);
if (args.copyOnly) process.exit(0);

run('npx', [...PNPM, 'build']);
run('node', [CLI, 'evaluate', '--data', DATA, '--split', 'val', '--backend', 'tensorflow']);
run('node', [CLI, 'evaluate', '--data', DATA, '--split', 'val', '--backend', 'tensorflow', '--tta', 'flip', '--out', 'results/tta']);
const samples = execFileSync('node', ['apps/cli/scripts/held-out-samples.mjs'], { cwd: REPO, encoding: 'utf8' }).trim().split(/\s+/);
fs.rmSync(path.join(REPO, 'results/visualizations'), { recursive: true, force: true });
run('node', [CLI, 'visualize', '--image', ...samples, '--out', 'results/visualizations', '--backend', 'tensorflow']);
run('node', ['apps/web/scripts/readme-screenshot.mjs']);
const stages = stageMetrics(runDir);
// What train-default.sh did after stage 3, one step per later stage (stage 4 is the widening).
const STEPS_AFTER_STAGE_3 = ['widened to hidden 256', 're-split', 'lighter augmentation', 'run at 40×40', 'at 48×48', 'back at 40×40 with mixup/CutMix'];
/** The learning curve's title for a run of `count` stages. */
function curveTitle(count) {
  if (count > 3) {
    const steps = STEPS_AFTER_STAGE_3.slice(0, count - 3);
    const last = steps.pop();
    return `scripts/train-default.sh: vit-mini-patch4-32 (cifar-default, RandAugment, mixup/CutMix + stochastic depth), ${[...steps, `then ${last}`].join(', ')} (native tensorflow backend)`;
  }
  if (count > 2) return 'scripts/train-default.sh: vit-mini-patch4-32, cifar-default, a RandAugment warm restart, then mixup/CutMix + stochastic depth (native tensorflow backend)';
  if (count > 1) return 'scripts/train-default.sh: vit-mini-patch4-32, cifar-default then a RandAugment warm restart (native tensorflow backend)';
  return 'vitlens train --recipe cifar-default (vit-mini-patch4-32, native tensorflow backend)';
}
const title = args.title ?? curveTitle(stages.length);
run('node', ['scripts/learning-curve.mjs', ...stages, '--out', 'results/learning-curve', '--target', '0.85', '--title', title]);
console.log('done: update the figures in README.md and models/default/README.md from results/evaluation_results.txt');
