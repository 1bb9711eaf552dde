#!/usr/bin/env node
// Time to accuracy: train each candidate model from scratch with `vitlens train` for an epoch budget
// (the schedule sized to that budget, as a real run of that length would be) and report validation
// accuracy against wall-clock time, so presets are chosen by accuracy per hour.
//
//   node scripts/time-to-accuracy.mjs --candidates vit-mini-patch4-32:4,bench/time-to-accuracy/wide-192x6/config.json:2
//        [--epochs 5] [--recipe cifar-default] [--backend tensorflow] [--runs ../runs/tta]
//        [--also <run folder>]… [--out results/time-to-accuracy.md] [-- <more vitlens train flags>]
//
// A candidate is a preset name or a Hugging Face config.json, optionally with its own epoch budget
// after a colon (default --epochs): give a model that costs twice as much per image half the epochs
// and the rows compare accuracy at about the same hours. Each run goes to <runs>/<name>-e<N>
// (resumed with --resume when it already has checkpoints, so an interrupted comparison continues).
// `--also` adds an existing run folder (a long run, or a copy of one such as models/default-run) to
// the table without training it. The table is rebuilt from the run folders' metrics.jsonl each time;
// the rows of the previous table whose run folders are not given (gone from this machine) are kept as
// they were, so the table keeps every candidate tried. Needs `pnpm build` first.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEpochs } from './metrics-jsonl.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'apps', 'cli', 'dist', 'bin.js');
const CORE_NODE = path.join(ROOT, 'packages', 'core', 'dist', 'node', 'index.js');

function parseArgs(argv) {
  const args = {
    candidates: [],
    epochs: 5,
    recipe: 'cifar-default',
    backend: 'tensorflow',
    runs: path.join(ROOT, '..', 'runs', 'tta'),
    out: path.join(ROOT, 'results', 'time-to-accuracy.md'),
    data: process.env.VITLENS_CIFAR10_JPEG ?? path.join(ROOT, '..', 'shared', 'data', 'cifar10-jpeg'),
    also: [],
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
    else if (a === '--also') args.also.push(path.resolve(value()));
    else if (a === '--data') args.data = path.resolve(value());
    else throw new Error(`unknown option '${a}'; valid: --candidates, --epochs, --recipe, --backend, --runs, --also, --out, --data, -- <train flags>`);
  }
  if (args.candidates.length === 0 && args.also.length === 0) throw new Error('--candidates: give at least one preset name or config.json');
  if (!isEpochs(args.epochs)) throw new Error(`--epochs: expected a positive integer, got ${args.epochs}`);
  args.candidates = args.candidates.map((spec) => parseCandidate(spec, args.epochs));
  for (const dir of args.also) {
    if (!fs.existsSync(path.join(dir, 'metrics.jsonl'))) throw new Error(`--also ${dir}: no metrics.jsonl there (expected a vitlens train --out folder)`);
  }
  return args;
}

const isEpochs = (n) => Number.isInteger(n) && n >= 1;

/** `vit-mini-patch4-32:4` → {model: 'vit-mini-patch4-32', epochs: 4}; without a colon, the default budget. */
function parseCandidate(spec, defaultEpochs) {
  const match = /^(.+?)(?::(\d+))?$/.exec(spec);
  const epochs = match[2] === undefined ? defaultEpochs : Number(match[2]);
  if (!isEpochs(epochs)) throw new Error(`--candidates ${spec}: the epoch budget after ':' must be a positive integer`);
  const model = match[1];
  if (model.endsWith('.json') && !fs.existsSync(model)) throw new Error(`--candidates ${spec}: ${model} does not exist`);
  return { model, epochs };
}

const nameOf = (candidate) => (candidate.endsWith('.json') ? path.basename(path.dirname(path.resolve(candidate))) || 'config' : candidate);

const CHECKPOINT_NAME = /^(epoch|step)-\d+$/;

function hasCheckpoint(dir) {
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => CHECKPOINT_NAME.test(f));
}

/**
 * The checkpoint that stands for a run folder: its `last`, or in a copy without one (the
 * repository's models/default-run) the checkpoint of the most steps.
 */
function newestCheckpoint(dir) {
  if (fs.existsSync(path.join(dir, 'last', 'trainer_state.json'))) return path.join(dir, 'last');
  const checkpoints = fs
    .readdirSync(dir)
    .filter((f) => CHECKPOINT_NAME.test(f) && fs.existsSync(path.join(dir, f, 'trainer_state.json')))
    .map((f) => ({ dir: path.join(dir, f), step: JSON.parse(fs.readFileSync(path.join(dir, f, 'trainer_state.json'), 'utf8')).step }));
  if (checkpoints.length === 0) throw new Error(`${dir}: no checkpoint with a trainer_state.json (expected last/ or epoch-NNN/)`);
  return checkpoints.reduce((a, b) => (b.step > a.step ? b : a)).dir;
}

/** The run's name: the run folder's, or for a copy of one the name its `run-folder` file records. */
function runName(dir) {
  const recorded = path.join(dir, 'run-folder');
  return fs.existsSync(recorded) ? fs.readFileSync(recorded, 'utf8').trim() : path.basename(dir);
}

function train(args, { model: candidate, epochs }, dir) {
  const model = candidate.endsWith('.json') ? ['--config', path.resolve(candidate)] : ['--model', candidate];
  const flags = hasCheckpoint(dir)
    ? ['train', '--data', args.data, '--resume', '--out', dir, '--backend', args.backend, '--no-progress']
    : ['train', '--data', args.data, '--recipe', args.recipe, ...model, '--epochs', String(epochs), '--out', dir, '--backend', args.backend, '--no-progress', ...args.extra];
  console.log(`time-to-accuracy: ${candidate}: vitlens ${flags.join(' ')}`);
  const result = spawnSync(process.execPath, [BIN, ...flags], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`vitlens train for ${candidate} exited with ${result.status}`);
}

/** One table row per run folder: its last epoch, hours (the epochs' own seconds), accuracies. */
async function summarise(dir) {
  const file = path.join(dir, 'metrics.jsonl');
  if (!fs.existsSync(file)) return undefined;
  let epochs;
  try {
    epochs = readEpochs(file);
  } catch {
    return undefined; // no finished epoch yet
  }
  const checkpoint = newestCheckpoint(dir);
  const state = JSON.parse(fs.readFileSync(path.join(checkpoint, 'trainer_state.json'), 'utf8'));
  const hours = epochs.at(-1).hours;
  const last = epochs.at(-1);
  const best = Math.max(...epochs.map((e) => Math.max(e.val_accuracy ?? 0, e.val_accuracy_ema ?? 0)));
  const model = state.config.model.endsWith('.json') ? nameOf(state.config.model) : state.config.model;
  return { run: runName(dir), model, params: await countParameters(path.join(checkpoint, 'model.safetensors')), planned: state.config.epochs, done: last.epoch, hours, last, best, rates: epochs.map((e) => e.images_per_s) };
}

/** Number of weights in a safetensors file, from its header (@vitlens/core's reader, which also checks it). */
async function countParameters(file) {
  const { readSafetensorsFileHeader } = await import(CORE_NODE);
  const { entries } = await readSafetensorsFileHeader(file);
  return entries.reduce((sum, entry) => sum + entry.shape.reduce((a, b) => a * b, 1), 0);
}

const pct = (x) => (typeof x === 'number' ? `${(100 * x).toFixed(2)}%` : '');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A table row: `| run | model | parameters | done / planned | hours | images/s | val | EMA val | best |`. */
function rowText(r) {
  return `| ${r.run} | ${r.model} | ${(r.params / 1e6).toFixed(2)} M | ${r.done} / ${r.planned} | ${r.hours.toFixed(2)} | ${median(r.rates).toFixed(1)} | ${pct(r.last.val_accuracy)} | ${pct(r.last.val_accuracy_ema)} | ${pct(r.best)} |`;
}

/**
 * The rows of the table already at `file` (this script wrote it), each as its text with the run,
 * hours and best accuracy read back from its cells; none when there is no table yet.
 */
function previousRows(file) {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((text) => ({ text, cells: text.split('|').slice(1, -1).map((c) => c.trim()) }))
    .filter(({ text, cells }) => text.startsWith('| ') && cells.length === 9 && /^\d+(\.\d+)?$/.test(cells[4]))
    .map(({ text, cells }) => ({ run: cells[0], hours: Number(cells[4]), best: Number.parseFloat(cells[8]) / 100, text }));
}

async function writeTable(args) {
  const dirs = [...new Set([...fs.readdirSync(args.runs).map((d) => path.join(args.runs, d)), ...args.also])];
  const measured = (await Promise.all(dirs.map(summarise))).filter(Boolean).map((r) => ({ run: r.run, hours: r.hours, best: r.best, text: rowText(r) }));
  const kept = previousRows(args.out).filter((row) => !measured.some((r) => r.run === row.run));
  const rows = [...measured, ...kept].sort((a, b) => a.hours - b.hours || b.best - a.best);
  const text = [
    '# Time to accuracy',
    '',
    `Made by \`node scripts/time-to-accuracy.mjs\` (${new Date().toISOString()}): each run trained from scratch by`,
    '`vitlens train` for its epoch budget, the schedule sized to that budget, on the shared CIFAR-10 training images (500 per',
    'class held out); accuracy on the held-out 5,000. Hours are the run\'s active wall-clock time (training + validation,',
    'pauses between resumed chunks left out) on the machine that ran it, so compare rows made on the same machine. Rows are',
    'in order of hours: read accuracy against the time it cost. Rows of runs whose folders this run of the script was not',
    'given (gone from the machine) are kept from the previous table.',
    '',
    '| run | model | parameters | epochs (done / planned) | hours | images/s (median epoch) | val accuracy | EMA val accuracy | best |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => r.text),
    '',
  ].join('\n');
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, text);
  const keptNote = kept.length > 0 ? ` (${kept.length} kept from the previous table: ${kept.map((r) => r.run).join(', ')})` : '';
  console.log(`time-to-accuracy: ${rows.length} runs${keptNote} → ${path.relative(process.cwd(), args.out)}`);
}

try {
  const args = parseArgs(process.argv.slice(2));
  if (args.candidates.length > 0 && !fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx -y pnpm@10.34.8 build\` first`);
  fs.mkdirSync(args.runs, { recursive: true });
  for (const candidate of args.candidates) train(args, candidate, path.join(args.runs, `${nameOf(candidate.model)}-e${candidate.epochs}`));
  await writeTable(args);
} catch (error) {
  console.error(`time-to-accuracy: ${error.message}`);
  process.exit(1);
}
