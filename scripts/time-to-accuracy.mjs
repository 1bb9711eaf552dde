#!/usr/bin/env node
// Time to accuracy: train each candidate model for the same epoch budget with `vitlens train` (the
// schedule sized to that budget, as a real run of that length would be) and report validation
// accuracy against wall-clock time, so presets are chosen by accuracy per hour.
//
//   node scripts/time-to-accuracy.mjs --candidates vit-mini-patch4-32,vit-tiny-patch4-32[,<config.json>…]
//        [--epochs 5] [--recipe cifar-default] [--backend tensorflow] [--runs ../runs/tta]
//        [--out results/time-to-accuracy.md] [-- <more vitlens train flags>]
//
// A candidate is a preset name or a Hugging Face config.json. Each run goes to <runs>/<name>-e<N>
// (resumed with --resume when it already has checkpoints, so an interrupted comparison continues);
// the table is rebuilt from every run folder's metrics.jsonl each time. Needs `pnpm build` first.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEpochs } from './metrics-jsonl.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'apps', 'cli', 'dist', 'bin.js');

function parseArgs(argv) {
  const args = {
    candidates: [],
    epochs: 5,
    recipe: 'cifar-default',
    backend: 'tensorflow',
    runs: path.join(ROOT, '..', 'runs', 'tta'),
    out: path.join(ROOT, 'results', 'time-to-accuracy.md'),
    data: process.env.VITLENS_CIFAR10_JPEG ?? path.join(ROOT, '..', 'shared', 'data', 'cifar10-jpeg'),
    extra: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--') {
      args.extra = argv.slice(i + 1);
      break;
    } else if (a === '--candidates') args.candidates = value().split(',').filter(Boolean);
    else if (a === '--epochs') args.epochs = Number(value());
    else if (a === '--recipe') args.recipe = value();
    else if (a === '--backend') args.backend = value();
    else if (a === '--runs') args.runs = path.resolve(value());
    else if (a === '--out') args.out = path.resolve(value());
    else if (a === '--data') args.data = path.resolve(value());
    else throw new Error(`unknown option '${a}'; valid: --candidates, --epochs, --recipe, --backend, --runs, --out, --data, -- <train flags>`);
  }
  if (args.candidates.length === 0) throw new Error('--candidates: give at least one preset name or config.json');
  if (!Number.isInteger(args.epochs) || args.epochs < 1) throw new Error(`--epochs: expected a positive integer, got ${args.epochs}`);
  return args;
}

const nameOf = (candidate) => (candidate.endsWith('.json') ? path.basename(path.dirname(path.resolve(candidate))) || 'config' : candidate);

function hasCheckpoint(dir) {
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => /^(epoch|step)-\d+$/.test(f));
}

function train(args, candidate, dir) {
  const model = candidate.endsWith('.json') ? ['--config', path.resolve(candidate)] : ['--model', candidate];
  const flags = hasCheckpoint(dir)
    ? ['train', '--data', args.data, '--resume', '--out', dir, '--backend', args.backend, '--no-progress']
    : ['train', '--data', args.data, '--recipe', args.recipe, ...model, '--epochs', String(args.epochs), '--out', dir, '--backend', args.backend, '--no-progress', ...args.extra];
  console.log(`time-to-accuracy: ${candidate}: vitlens ${flags.join(' ')}`);
  const result = spawnSync(process.execPath, [BIN, ...flags], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`vitlens train for ${candidate} exited with ${result.status}`);
}

/** One table row per run folder: its last epoch, hours (the epochs' own seconds), accuracies. */
function summarise(dir) {
  const file = path.join(dir, 'metrics.jsonl');
  if (!fs.existsSync(file)) return undefined;
  let epochs;
  try {
    epochs = readEpochs(file);
  } catch {
    return undefined; // no finished epoch yet
  }
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'last', 'trainer_state.json'), 'utf8'));
  const hours = epochs.at(-1).hours;
  const last = epochs.at(-1);
  const best = Math.max(...epochs.map((e) => Math.max(e.val_accuracy ?? 0, e.val_accuracy_ema ?? 0)));
  const params = state.config.model;
  return { run: path.basename(dir), model: params, planned: state.config.epochs, done: last.epoch, hours, last, best, perHour: best / hours };
}

function writeTable(args) {
  const rows = fs
    .readdirSync(args.runs)
    .map((d) => summarise(path.join(args.runs, d)))
    .filter(Boolean)
    .sort((a, b) => b.perHour - a.perHour);
  const pct = (x) => (typeof x === 'number' ? `${(100 * x).toFixed(2)}%` : '');
  const text = [
    '# Time to accuracy',
    '',
    `Made by \`node scripts/time-to-accuracy.mjs\` (${new Date().toISOString()}): each candidate trained from scratch by`,
    `\`vitlens train --recipe ${args.recipe}\` for its epoch budget on the shared CIFAR-10 training images (500 per class`,
    'held out), validation accuracy on the held-out 5,000; hours are the run\'s active wall-clock time (training + validation,',
    'pauses between resumed chunks left out) on the machine that ran them, so compare rows made on the same machine.',
    '',
    '| run | model | epochs (done / planned) | hours | val accuracy | EMA val accuracy | best | best per hour | images/s (last epoch) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.run} | ${r.model} | ${r.done} / ${r.planned} | ${r.hours.toFixed(2)} | ${pct(r.last.val_accuracy)} | ${pct(r.last.val_accuracy_ema)} | ${pct(r.best)} | ${(100 * r.perHour).toFixed(1)} points/h | ${r.last.images_per_s.toFixed(1)} |`,
    ),
    '',
  ].join('\n');
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, text);
  console.log(`time-to-accuracy: ${rows.length} runs → ${path.relative(process.cwd(), args.out)}`);
}

try {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx -y pnpm@10.34.8 build\` first`);
  fs.mkdirSync(args.runs, { recursive: true });
  for (const candidate of args.candidates) train(args, candidate, path.join(args.runs, `${nameOf(candidate)}-e${args.epochs}`));
  writeTable(args);
} catch (error) {
  console.error(`time-to-accuracy: ${error.message}`);
  process.exit(1);
}
