#!/usr/bin/env node
// The learning curve of a training run, from its metrics.jsonl: validation accuracy and loss against
// epoch and against wall-clock hours, as an SVG figure and a Markdown table.
//
//   node scripts/learning-curve.mjs <run>/metrics.jsonl [<next stage>/metrics.jsonl …] [--out results/learning-curve] [--title …] [--target 0.85]
//
// Several files are the stages of one model (each later run started from the one before with
// `vitlens train --pretrained`), drawn as one curve with the epochs counted on. Writes <out>.svg and
// <out>.md, and the metrics themselves to <out>.jsonl (the stages' lines one after another; this
// script reads that file back as the same stages) so the figure's data sits beside it. Hours are the
// run's active wall-clock time (training + validation) from the lines' timestamps; the pauses
// between a stopped chunk and its resume are not counted.
import fs from 'node:fs';
import path from 'node:path';
import { readStages } from './metrics-jsonl.mjs';

function parseArgs(argv) {
  const args = { files: [], out: 'results/learning-curve', title: 'vitlens training run' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') args.out = argv[++i];
    else if (a === '--title') args.title = argv[++i];
    else if (a === '--target') args.target = Number(argv[++i]);
    else if (a.startsWith('--')) throw new Error(`unknown option '${a}'; valid: --out <path without extension>, --title <text>, --target <accuracy 0..1>`);
    else args.files.push(a);
  }
  if (args.files.length === 0) throw new Error('usage: node scripts/learning-curve.mjs <metrics.jsonl> [<next stage metrics.jsonl> …] [--out results/learning-curve] [--title <text>]');
  return args;
}

const W = 900;
const H = 330;
const PAD = { left: 56, right: 16, top: 34, bottom: 44 };
const COLORS = { acc: '#1f77b4', ema: '#2ca02c', loss: '#d62728' };

/** One panel: series of [x, y] against linear axes; returns SVG markup placed at (ox, 0). */
function panel({ ox, width, title, xLabel, series, yMin, yMax, yFormat, target, marks = [] }) {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const xMax = Math.max(...xs, 1e-9);
  const iw = width - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const sx = (x) => ox + PAD.left + (x / xMax) * iw;
  const sy = (y) => PAD.top + ih - ((y - yMin) / (yMax - yMin)) * ih;
  const out = [`<text x="${ox + PAD.left}" y="20" font-size="14" font-weight="bold">${title}</text>`];
  for (let k = 0; k <= 5; k++) {
    const y = yMin + ((yMax - yMin) * k) / 5;
    out.push(`<line x1="${ox + PAD.left}" x2="${ox + PAD.left + iw}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${ox + PAD.left - 6}" y="${sy(y) + 4}" font-size="11" text-anchor="end">${yFormat(y)}</text>`);
  }
  for (let k = 0; k <= 5; k++) {
    const x = (xMax * k) / 5;
    out.push(`<text x="${sx(x)}" y="${H - PAD.bottom + 16}" font-size="11" text-anchor="middle">${Number(x.toFixed(x < 10 ? 1 : 0))}</text>`);
  }
  out.push(`<text x="${ox + PAD.left + iw / 2}" y="${H - 8}" font-size="12" text-anchor="middle">${xLabel}</text>`);
  out.push(`<rect x="${ox + PAD.left}" y="${PAD.top}" width="${iw}" height="${ih}" fill="none" stroke="#888"/>`);
  if (target !== undefined) {
    out.push(`<line x1="${ox + PAD.left}" x2="${ox + PAD.left + iw}" y1="${sy(target.y)}" y2="${sy(target.y)}" stroke="#555" stroke-dasharray="5,4"/>`);
    out.push(`<text x="${ox + PAD.left + iw - 4}" y="${sy(target.y) - 4}" font-size="11" text-anchor="end" fill="#555">${target.label}</text>`);
  }
  for (const mark of marks) {
    out.push(`<line x1="${sx(mark.x)}" x2="${sx(mark.x)}" y1="${PAD.top}" y2="${PAD.top + ih}" stroke="#999" stroke-dasharray="3,3"/>`);
    out.push(`<text x="${sx(mark.x) + 3}" y="${PAD.top + ih - 6}" font-size="10" fill="#777">${mark.label}</text>`);
  }
  series.forEach((s, i) => {
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${ox + PAD.left + 8}" y="${PAD.top + 16 + 14 * i}" font-size="12" fill="${s.color}">${s.label}</text>`);
  });
  return out.join('\n');
}

function figure(epochs, title, target) {
  const hasEma = epochs.some((e) => typeof e.val_accuracy_ema === 'number');
  const accSeries = (x) => [
    { label: 'validation accuracy', color: COLORS.acc, points: epochs.map((e) => [x(e), e.val_accuracy]) },
    ...(hasEma ? [{ label: 'average of the weights (EMA)', color: COLORS.ema, points: epochs.filter((e) => e.val_accuracy_ema != null).map((e) => [x(e), e.val_accuracy_ema]) }] : []),
  ];
  const losses = epochs.flatMap((e) => [e.val_loss, e.train_loss]).filter(Number.isFinite);
  // A dashed line where each later stage starts (at the end of the stage before it).
  const marksBy = (x) =>
    epochs.flatMap((e, i) => (i > 0 && e.stage !== epochs[i - 1].stage ? [{ x: x(epochs[i - 1]), label: `stage ${e.stage}` }] : []));
  const third = W / 3;
  const pctFormat = (y) => `${Math.round(100 * y)}%`;
  const parts = [
    panel({ ox: 0, width: third, title: 'accuracy by epoch', xLabel: 'epoch', series: accSeries((e) => e.epoch), yMin: 0, yMax: 1, yFormat: pctFormat, target, marks: marksBy((e) => e.epoch) }),
    panel({ ox: third, width: third, title: 'accuracy by hours', xLabel: 'hours (training + validation)', series: accSeries((e) => e.hours), yMin: 0, yMax: 1, yFormat: pctFormat, target, marks: marksBy((e) => e.hours) }),
    panel({
      ox: 2 * third,
      width: third,
      title: 'loss by epoch',
      xLabel: 'epoch',
      series: [
        { label: 'validation loss', color: COLORS.loss, points: epochs.map((e) => [e.epoch, e.val_loss]) },
        { label: 'training loss', color: '#ff7f0e', points: epochs.map((e) => [e.epoch, e.train_loss]) },
      ],
      yMin: 0,
      yMax: Math.ceil(Math.max(...losses) * 2) / 2,
      yFormat: (y) => y.toFixed(1),
      marks: marksBy((e) => e.epoch),
    }),
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 24}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<g transform="translate(0, 24)">${parts.join('\n')}</g>
<text x="8" y="16" font-size="13">${title}</text>
</svg>
`;
}

function table(epochs) {
  const hasEma = epochs.some((e) => typeof e.val_accuracy_ema === 'number');
  const staged = epochs.at(-1).stage > 1;
  const pct = (x) => (typeof x === 'number' ? `${(100 * x).toFixed(2)}%` : '');
  const rows = epochs.map(
    (e) =>
      `|${staged ? ` ${e.stage} | ${e.stage_epoch} |` : ''} ${e.epoch} | ${e.step} | ${e.hours.toFixed(2)} | ${e.train_loss.toFixed(4)} | ${e.val_loss.toFixed(4)} | ${pct(e.val_accuracy)} |` +
      (hasEma ? ` ${pct(e.val_accuracy_ema)} |` : '') +
      ` ${e.images_per_s.toFixed(1)} |`,
  );
  return [
    `|${staged ? ' stage | stage epoch |' : ''} epoch | step | hours | train loss | val loss | val accuracy |${hasEma ? ' EMA val accuracy |' : ''} images/s |`,
    `|${staged ? ' --- | --- |' : ''} --- | --- | --- | --- | --- | --- |${hasEma ? ' --- |' : ''} --- |`,
    ...rows,
  ].join('\n');
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const epochs = readStages(args.files);
  fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
  const target = args.target === undefined ? undefined : { y: args.target, label: `target ${Math.round(100 * args.target)}%` };
  fs.writeFileSync(`${args.out}.svg`, figure(epochs, args.title, target));
  const best = epochs.reduce((a, e) => (e.val_accuracy > a.val_accuracy ? e : a));
  const bestEma = epochs.reduce((a, e) => ((e.val_accuracy_ema ?? -1) > (a.val_accuracy_ema ?? -1) ? e : a));
  const emaLine =
    typeof bestEma.val_accuracy_ema === 'number'
      ? ` Average of the weights (EMA): ${(100 * bestEma.val_accuracy_ema).toFixed(2)}% at epoch ${bestEma.epoch} (${bestEma.hours.toFixed(2)} h).`
      : '';
  fs.writeFileSync(
    `${args.out}.md`,
    `# ${args.title}\n\nFrom \`${path.basename(args.out)}.jsonl\` by \`node scripts/learning-curve.mjs\`; hours are the run's active wall-clock time (training and validation, from the lines' timestamps; pauses between stopped and resumed chunks left out).\n\n` +
      `Best validation accuracy: ${(100 * best.val_accuracy).toFixed(2)}% at epoch ${best.epoch} (${best.hours.toFixed(2)} h).${emaLine}\n\n${table(epochs)}\n`,
  );
  const data = args.files.map((file) => fs.readFileSync(file, 'utf8').trimEnd()).join('\n');
  fs.writeFileSync(`${args.out}.jsonl`, `${data}\n`);
  console.log(`learning curve: ${epochs.length} epochs → ${args.out}.svg, ${args.out}.md, ${args.out}.jsonl`);
}

try {
  main();
} catch (error) {
  console.error(`learning-curve: ${error.message}`);
  process.exit(1);
}
