import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
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
    .sort();
  const classes: string[] = [];
  const files: Array<[number, string]> = [];
  for (const name of classDirs) {
    const images = (await fs.readdir(path.join(root, name), { withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
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

/** One image picked uniformly at random. */
export function randomSample(folder: SampleFolder): Sample {
  const entry = folder.files[randomInt(folder.files.length)];
  if (entry === undefined) throw new Error(`${folder.root}: the dataset is empty`);
  const [classIndex, name] = entry;
  const label = folder.classes[classIndex] ?? String(classIndex);
  return { classIndex, label, relativePath: `${label}/${name}`, file: path.join(folder.root, label, name) };
}
