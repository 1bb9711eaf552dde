#!/usr/bin/env node
// Prints N image paths per class from the validation images that `vitlens train` holds out of an
// image folder (same stratified split: --val-per-class and --seed as in training), so figures and
// spot checks use images the model never trained on.
//   node apps/cli/scripts/held-out-samples.mjs [root=../shared/data/cifar10-jpeg/train] [perClass=1] [valPerClass=500] [seed=42]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stratifiedSplit } from '@vitlens/cifar10-data';
import { listImageFolder } from '@vitlens/cifar10-data/node';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const [root = path.join(repo, '..', 'shared', 'data', 'cifar10-jpeg', 'train'), perClass = '1', valPerClass = '500', seed = '42'] =
  process.argv.slice(2);

// The loader's own listing (classes and files in natural order), so the split is training's.
const listing = await listImageFolder(path.dirname(path.resolve(root)), { split: path.basename(path.resolve(root)) });
const labels = Uint8Array.from(listing.files, (f) => f.label);
const { val } = stratifiedSplit(labels, listing.classNames.length, { valPerClass: Number(valPerClass), seed: Number(seed) });
const taken = new Map();
for (const index of val) {
  const label = labels[index];
  if ((taken.get(label) ?? 0) >= Number(perClass)) continue;
  taken.set(label, (taken.get(label) ?? 0) + 1);
  console.log(path.relative(process.cwd(), listing.files[index].file));
}
