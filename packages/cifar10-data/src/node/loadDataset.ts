import fs from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../errors';
import type { ImageDataset } from '../types';
import { isBinaryBatchFolder, loadBinaryFolder } from './binaryFolder';
import { ensureCifar10 } from './cifar10';
import { loadImageFolder } from './imageFolder';

export interface LoadDatasetOptions {
  /** 'train' | 'test' | … (for a binary folder also a batch file's base name, e.g. 'data_batch_1'). */
  split: string;
  /** Cache root (default `$VITLENS_CACHE_DIR` or `~/.cache/vitlens`). */
  cacheDir?: string;
  /** Image folders: skip-and-count or fail on an image that does not decode (default 'fail'). */
  onBadImage?: 'skip' | 'fail';
  /** Image folders: resize (with a warning) or fail on an image that is not 32×32 (default 'resize'). */
  onWrongSize?: 'resize' | 'fail';
  /** Image folders: class order (default sorted folder names). */
  classNames?: string[];
  log?: (msg: string) => void;
  /** Progress bars on a TTY stderr (default true; nothing is drawn when stderr is not a TTY). */
  progress?: boolean;
  /** 'cifar10' only: archive URL and MD5 (default the official release). */
  url?: string;
  md5?: string;
  /** Image folders: use the decoded-array disk cache (default true). */
  cache?: boolean;
  /** Image folders: decoding worker threads (default 0 = main thread). */
  workers?: number;
}

/**
 * Load a split of CIFAR-10 or an image folder into memory as uint8 `[N, 32, 32, 3]`.
 *
 * `spec` is 'cifar10' (the official binary release, downloaded into the cache once), a
 * `cifar-10-batches-bin` folder (or a folder containing one), or an image-folder root
 * (`<root>/<split>/<class>/*.{jpg,jpeg,png}`, or `<root>/<class>/*` when root is the split folder).
 */
export async function loadDataset(spec: string, opts: LoadDatasetOptions): Promise<ImageDataset> {
  if (!opts || typeof opts.split !== 'string' || opts.split.length === 0) {
    throw new DataError(`loadDataset(${JSON.stringify(spec)}): opts.split must name a split such as 'train' or 'test'`, spec, 'split');
  }
  const log = opts.log ?? (() => {});
  let dataset: ImageDataset;
  if (spec === 'cifar10' || spec === 'cifar-10') {
    const dir = await ensureCifar10({ cacheDir: opts.cacheDir, url: opts.url, md5: opts.md5, progress: opts.progress, log });
    dataset = await loadBinaryFolder(dir, opts.split);
  } else {
    const stat = await fs.stat(spec).catch(() => null);
    if (!stat) {
      throw new DataError(
        `${spec}: no such file or folder; expected 'cifar10', a cifar-10-batches-bin folder or an image folder (<root>/<split>/<class>/*.jpg)`,
        spec,
        'spec',
      );
    }
    if (!stat.isDirectory()) {
      throw new DataError(`${spec}: is a file; pass the folder that holds the batch files or the image folders`, spec, 'spec');
    }
    const nested = path.join(spec, 'cifar-10-batches-bin');
    if (await isBinaryBatchFolder(spec)) dataset = await loadBinaryFolder(spec, opts.split);
    else if (await isBinaryBatchFolder(nested)) dataset = await loadBinaryFolder(nested, opts.split);
    else {
      dataset = await loadImageFolder(spec, {
        split: opts.split,
        classNames: opts.classNames,
        onBadImage: opts.onBadImage,
        onWrongSize: opts.onWrongSize,
        cacheDir: opts.cacheDir,
        cache: opts.cache,
        workers: opts.workers,
        log,
        progress: opts.progress,
      });
    }
  }
  log(`${dataset.source}: ${dataset.count} images of ${dataset.width}×${dataset.height}, ${dataset.classNames.length} classes`);
  return dataset;
}
