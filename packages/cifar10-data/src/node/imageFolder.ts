import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DatasetAssembler, describeRepairs } from '../assemble';
import { DataError } from '../errors';
import type { ImageDataset } from '../types';
import { resolveCacheDir } from './cacheDir';
import { readDatasetCache, writeDatasetCache } from './datasetCache';
import { decodeInWorkers } from './decodePool';
import { naturalCompare } from './naturalSort';
import { ProgressBar } from './progress';

const IMAGE_EXT = /\.(jpe?g|png)$/i;
const CACHE_VERSION = 1;

export interface ImageFolderOptions {
  /** Split folder under the root ('train', 'test', …). */
  split: string;
  /** Class order; default the sorted class folder names. Every name needs a folder and vice versa. */
  classNames?: string[];
  onBadImage?: 'skip' | 'fail';
  onWrongSize?: 'resize' | 'fail';
  /** Image size every image ends up at (default 32×32). */
  height?: number;
  width?: number;
  /** Cache root for decoded arrays (default `$VITLENS_CACHE_DIR` or `~/.cache/vitlens`). */
  cacheDir?: string;
  /** Use and write the decoded-array cache (default true). */
  cache?: boolean;
  /** Files read ahead of the decoder on the main thread (default 64). */
  readAhead?: number;
  /**
   * Worker threads that read and decode JPEGs (default 0: decode on the main thread). Worth trying
   * on a machine with idle cores.
   */
  workers?: number;
  log?: (msg: string) => void;
  progress?: boolean;
}

interface Listing {
  splitDir: string;
  classNames: string[];
  files: { file: string; label: number }[];
}

async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}

/**
 * `<root>/<split>/<class>/*` or, when `root` itself is a split folder named `split`, `<root>/<class>/*`.
 */
export async function resolveSplitDir(root: string, split: string): Promise<string> {
  if (!(await isDir(root))) throw new DataError(`${root}: no such folder (expected an image-folder root)`, root, 'root');
  const candidate = path.join(root, split);
  if (await isDir(candidate)) return candidate;
  const folders = await subfolders(root);
  // Does root hold class folders of images directly?
  let holdsImages = false;
  for (const folder of folders.slice(0, 3)) {
    const names = await fs.readdir(path.join(root, folder));
    if (names.some((n) => IMAGE_EXT.test(n))) holdsImages = true;
  }
  if (holdsImages && path.basename(path.resolve(root)) === split) return root;
  if (holdsImages) {
    throw new DataError(
      `${root}: split folder "${split}" does not exist; ${root} holds class folders itself, so it is the split folder "${path.basename(path.resolve(root))}", not "${split}"`,
      candidate,
      'split',
    );
  }
  throw new DataError(
    `${candidate}: split folder "${split}" does not exist (found: ${folders.join(', ') || 'no folders'}); expected <root>/<split>/<class>/*.jpg|png`,
    candidate,
    'split',
  );
}

/** List the images of a split: classes and files in a stable (natural) order. */
export async function listImageFolder(root: string, options: Pick<ImageFolderOptions, 'split' | 'classNames'>): Promise<Listing> {
  const splitDir = await resolveSplitDir(root, options.split);
  const folders = (await subfolders(splitDir)).sort(naturalCompare);
  let classNames = folders;
  if (options.classNames) {
    const given = new Set(options.classNames);
    const missing = options.classNames.filter((c) => !folders.includes(c));
    if (missing.length > 0) {
      throw new DataError(`${splitDir}: no folder for class(es) ${missing.join(', ')} (found: ${folders.join(', ') || 'none'})`, splitDir, 'classNames');
    }
    const unknown = folders.filter((f) => !given.has(f));
    if (unknown.length > 0) {
      throw new DataError(`${splitDir}: folder(s) ${unknown.join(', ')} are not in the given class list (${options.classNames.join(', ')})`, splitDir, 'classNames');
    }
    classNames = [...options.classNames];
  }
  if (classNames.length === 0) throw new DataError(`${splitDir}: no class folders (expected ${splitDir}/<class>/*.jpg|png)`, splitDir, 'classes');
  if (classNames.length > 256) throw new DataError(`${splitDir}: ${classNames.length} classes; at most 256 fit uint8 labels`, splitDir, 'classes');
  const files: Listing['files'] = [];
  for (let label = 0; label < classNames.length; label++) {
    const dir = path.join(splitDir, classNames[label]!);
    const names = (await fs.readdir(dir)).filter((n) => IMAGE_EXT.test(n)).sort(naturalCompare);
    if (names.length === 0) throw new DataError(`${dir}: class folder "${classNames[label]}" has no .jpg, .jpeg or .png images`, dir, 'images');
    for (const name of names) files.push({ file: path.join(dir, name), label });
  }
  return { splitDir, classNames, files };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * Load `<root>/<split>/<class>/*.{jpg,jpeg,png}` as an `ImageDataset`. Decoded arrays are cached
 * on disk under a key made of the listing (paths, sizes, modification times) and the options, so
 * a second load of an unchanged folder only reads one file.
 */
export async function loadImageFolder(root: string, options: ImageFolderOptions): Promise<ImageDataset> {
  const log = options.log ?? (() => {});
  const listing = await listImageFolder(root, options);
  const height = options.height ?? 32;
  const width = options.width ?? 32;
  const onBadImage = options.onBadImage ?? 'fail';
  const onWrongSize = options.onWrongSize ?? 'resize';
  const source = listing.splitDir;

  const useCache = options.cache ?? true;
  let cacheFile: string | null = null;
  if (useCache) {
    const stats = await mapLimit(listing.files, 64, (f) => fs.stat(f.file));
    const hash = createHash('sha256');
    hash.update(JSON.stringify({ v: CACHE_VERSION, dir: path.resolve(source), height, width, onBadImage, onWrongSize, classNames: listing.classNames }));
    for (let i = 0; i < listing.files.length; i++) {
      const f = listing.files[i]!;
      const s = stats[i]!;
      hash.update(`\n${f.label}\t${f.file}\t${s.size}\t${s.mtimeMs}`);
    }
    cacheFile = path.join(resolveCacheDir(options.cacheDir), 'image-folders', `${hash.digest('hex').slice(0, 32)}.vlds`);
    const cached = await readDatasetCache(cacheFile);
    if (cached) {
      log(`${source}: ${cached.count} images from the decoded cache ${cacheFile}`);
      for (const line of describeRepairs(cached)) log(line);
      return cached;
    }
  }

  const assembler = new DatasetAssembler({
    classNames: listing.classNames,
    expected: listing.files.length,
    height,
    width,
    onBadImage,
    onWrongSize,
    source,
  });
  const bar = new ProgressBar({ label: `decoding ${path.basename(source)}`, total: listing.files.length, unit: 'items', enabled: options.progress ?? true });
  // Default main thread: on the shared 2-core machines, 1 worker was no faster (22–25 s vs 22 s for 50,000).
  const workers = options.workers ?? 0;
  if (workers > 0) {
    let i = 0;
    for await (const result of decodeInWorkers(listing.files.map((f) => f.file), workers)) {
      const f = listing.files[i++]!;
      if (result.kind === 'decoded') assembler.addDecoded(f.file, f.label, result);
      else if (result.kind === 'raw') assembler.add(f.file, f.label, result.bytes);
      else throw new DataError(`${f.file}: cannot be read (${result.message})`, f.file, 'file');
      bar.tick(1);
    }
  } else {
    // Reads run ahead of the (synchronous) decoder; images are decoded in listing order.
    const readAhead = Math.max(1, options.readAhead ?? 64);
    const reads: Promise<Uint8Array>[] = [];
    const startRead = (i: number) => {
      const p = fs.readFile(listing.files[i]!.file);
      p.catch(() => {});
      reads[i] = p;
    };
    for (let i = 0; i < Math.min(readAhead, listing.files.length); i++) startRead(i);
    for (let i = 0; i < listing.files.length; i++) {
      const bytes = await reads[i]!;
      delete reads[i];
      if (i + readAhead < listing.files.length) startRead(i + readAhead);
      const f = listing.files[i]!;
      assembler.add(f.file, f.label, bytes);
      bar.tick(1);
    }
  }
  bar.finish();
  const dataset = assembler.finish();
  for (const line of describeRepairs(dataset)) log(line);
  if (dataset.count === 0) throw new DataError(`${source}: none of the ${listing.files.length} image(s) decoded`, source, 'images');
  if (cacheFile) {
    await writeDatasetCache(cacheFile, dataset);
    log(`${source}: cached ${dataset.count} decoded images in ${cacheFile}`);
  }
  return dataset;
}
