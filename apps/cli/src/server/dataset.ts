import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { stratifiedSplit } from '@vitlens/cifar10-data';
import { listImageFolder, naturalCompare } from '@vitlens/cifar10-data/node';
import type { HeldOutSplit } from '@vitlens/web/api';
import { IMAGE_EXTENSIONS } from './content-types';

/** An image folder (`<root>/<class>/*.jpg`) listed once, for random samples. */
export interface SampleFolder {
  /** The folder whose sub-folders are the classes (`<data>`, `<data>/test` or `<data>/train`). */
  root: string;
  /** Which split was picked: 'test', 'train', or '' when the classes sit directly under `<data>`. */
  split: string;
  /** Class names: the sub-folder names, sorted. */
  classes: string[];
  /** Every image as [class index, file name inside its class folder]. */
  files: Array<[number, string]>;
  /** Set when only the validation images that training held out of this split are offered. */
  heldOut?: HeldOutSplit;
  /** Why the held-out images could not be picked (every image of the split is offered then). */
  warning?: string;
}

export interface Sample {
  classIndex: number;
  label: string;
  /** `<class>/<file>` relative to the split folder. */
  relativePath: string;
  file: string;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function listClasses(root: string): Promise<{ classes: string[]; files: Array<[number, string]> }> {
  const entries = await fs.readdir(root, { withFileTypes: true });
  const classDirs = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(naturalCompare);
  const classes: string[] = [];
  const files: Array<[number, string]> = [];
  for (const name of classDirs) {
    const images = (await fs.readdir(path.join(root, name), { withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort(naturalCompare); // the order @vitlens/cifar10-data loads them in
    if (images.length === 0) continue;
    const index = classes.length;
    classes.push(name);
    for (const image of images) files.push([index, image]);
  }
  return { classes, files };
}

/**
 * List an image-folder dataset: `<data>/test/<class>/*`, else `<data>/train/<class>/*`, else
 * `<data>/<class>/*`. Throws naming the folder and the layouts tried when no images are found.
 */
export async function listSampleFolder(data: string): Promise<SampleFolder> {
  if (!(await isDirectory(data))) {
    throw new Error(`--data ${data}: not a folder (expected an image folder: <data>/<class>/*.jpg or <data>/train/<class>/*.jpg)`);
  }
  for (const split of ['test', 'train']) {
    const root = path.join(data, split);
    if (await isDirectory(root)) {
      const listed = await listClasses(root);
      if (listed.files.length > 0) return { root, split, ...listed };
    }
  }
  const listed = await listClasses(data);
  if (listed.files.length > 0) return { root: data, split: '', ...listed };
  throw new Error(
    `--data ${data}: no images found in ${path.join(data, 'test')}/<class>/, ${path.join(data, 'train')}/<class>/ ` +
      `or ${data}/<class>/ (extensions: ${[...IMAGE_EXTENSIONS].join(', ')})`,
  );
}

/**
 * Keep only the images `vitlens train` held out for validation from this split (`valPerClass` per
 * class, `seed`): the loader's own listing (`listImageFolder`, the checkpoint's `classNames` as
 * labels) and the same `stratifiedSplit`, less any that are not regular files of `folder` (links).
 * Throws the loader's error when the folder's classes are not the checkpoint's.
 */
export async function heldOutSamples(folder: SampleFolder, opts: { classNames: string[]; valPerClass: number; seed: number }): Promise<SampleFolder> {
  // <parent>/<name> names the split folder itself, whatever its layout
  const listing = await listImageFolder(path.dirname(folder.root), { split: path.basename(folder.root), classNames: opts.classNames });
  const labels = Uint8Array.from(listing.files, (f) => f.label);
  const { val } = stratifiedSplit(labels, listing.classNames.length, { valPerClass: opts.valPerClass, seed: opts.seed });
  const classIndex = new Map(folder.classes.map((name, i) => [name, i]));
  // The loader lists links too; offer only what the folder's own listing holds (regular files).
  const listed = new Set(folder.files.map(([c, name]) => `${c}/${name}`));
  const files = Array.from(val, (i): [number, string] => {
    const { file, label } = listing.files[i]!;
    return [classIndex.get(listing.classNames[label]!)!, path.basename(file)];
  }).filter(([c, name]) => listed.has(`${c}/${name}`));
  return { ...folder, files, heldOut: { valPerClass: opts.valPerClass, seed: opts.seed } };
}

/** One image picked uniformly at random. */
export function randomSample(folder: SampleFolder): Sample {
  const entry = folder.files[randomInt(folder.files.length)];
  if (entry === undefined) throw new Error(`${folder.root}: the dataset is empty`);
  const [classIndex, name] = entry;
  const label = folder.classes[classIndex] ?? String(classIndex);
  return { classIndex, label, relativePath: `${label}/${name}`, file: path.join(folder.root, label, name) };
}
