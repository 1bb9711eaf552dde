#!/usr/bin/env node
// Prints N image paths per class from the validation images that `vitlens train` holds out of an
// image folder (same stratified split: --val-per-class and --seed as in training), so figures and
// spot checks use images the model never trained on.
//   node apps/cli/scripts/held-out-samples.mjs [root=../shared/data/cifar10-jpeg/train] [perClass=1] [valPerClass=500] [seed=42]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stratifiedSplit } from '@vitlens/cifar10-data';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const [root = path.join(repo, '..', 'shared', 'data', 'cifar10-jpeg', 'train'), perClass = '1', valPerClass = '500', seed = '42'] =
  process.argv.slice(2);
const natural = new Intl.Collator('en', { numeric: true }).compare;
const IMAGE = /\.(jpe?g|png)$/i;

// Dataset order = class folders sorted, files sorted naturally inside each (as loadDataset reads them).
const classes = fs.readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort(natural);
const files = [];
const labels = [];
classes.forEach((name, label) => {
  for (const file of fs.readdirSync(path.join(root, name)).filter((f) => IMAGE.test(f)).sort(natural)) {
    files.push(path.join(root, name, file));
    labels.push(label);
  }
});
const { val } = stratifiedSplit(Uint8Array.from(labels), classes.length, { valPerClass: Number(valPerClass), seed: Number(seed) });
const taken = new Map();
for (const index of val) {
  const label = labels[index];
  if ((taken.get(label) ?? 0) >= Number(perClass)) continue;
  taken.set(label, (taken.get(label) ?? 0) + 1);
  console.log(path.relative(process.cwd(), files[index]));
}
