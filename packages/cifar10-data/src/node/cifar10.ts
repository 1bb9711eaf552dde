import fs from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '@vitlens/core/node';
import { DataError } from '../errors';
import { resolveCacheDir } from './cacheDir';
import { downloadFile } from './download';
import { extractTarGz } from './extract';
import { md5File } from './md5';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';
const MARKER = '.vitlens-complete.json';

export interface EnsureCifar10Options {
  /** Cache root (default `$VITLENS_CACHE_DIR` or `~/.cache/vitlens`). */
  cacheDir?: string;
  /** Archive URL (default the official release, or `$VITLENS_CIFAR10_URL`). */
  url?: string;
  /** Expected MD5 of the archive (default the official one). */
  md5?: string;
  progress?: boolean;
  retries?: number;
  retryDelayMs?: number;
  log?: (msg: string) => void;
}

/**
 * Make sure the official binary release is in the cache and return its `cifar-10-batches-bin`
 * folder. A completed extraction is reused without touching the network; an archive already in
 * the cache (e.g. copied there by hand) is verified and extracted; otherwise it is downloaded
 * (resumable, verified, atomic) first.
 */
export async function ensureCifar10(options: EnsureCifar10Options = {}): Promise<string> {
  const root = path.join(resolveCacheDir(options.cacheDir), 'cifar10');
  const batches = path.join(root, 'cifar-10-batches-bin');
  const archive = path.join(root, CIFAR10_ARCHIVE);
  const md5 = options.md5 ?? CIFAR10_MD5;
  const url = options.url ?? process.env.VITLENS_CIFAR10_URL ?? CIFAR10_URL;
  const log = options.log ?? (() => {});

  const marker = await fs.readFile(path.join(batches, MARKER), 'utf8').catch(() => null);
  if (marker !== null) return batches;

  if (await fs.stat(archive).then((s) => s.isFile(), () => false)) {
    const actual = await md5File(archive);
    if (actual === md5) {
      log(`${archive}: found in the cache, MD5 verified`);
    } else {
      await fs.rm(archive, { force: true });
      log(`${archive}: MD5 ${actual} does not match ${md5}; removed it, downloading again`);
    }
  }
  if (!(await fs.stat(archive).then(() => true, () => false))) {
    log(`downloading ${url} to ${archive}`);
    await downloadFile(url, archive, {
      md5,
      progress: options.progress ?? true,
      retries: options.retries,
      retryDelayMs: options.retryDelayMs,
      log,
      offlineHint:
        `Without a network, download ${CIFAR10_ARCHIVE} (MD5 ${md5}) elsewhere and copy it to ${archive}, ` +
        `or pass an extracted cifar-10-batches-bin folder (or an image folder) instead of 'cifar10', ` +
        `e.g. loadDataset('/path/to/cifar-10-batches-bin', { split: 'train' }); set VITLENS_CACHE_DIR to use another cache.`,
    });
  }
  log(`extracting ${archive}`);
  try {
    await extractTarGz(archive, batches, 'cifar-10-batches-bin');
  } catch (error) {
    throw new DataError(`${archive}: extraction failed (${error instanceof Error ? error.message : String(error)})`, archive, 'archive');
  }
  await writeJsonAtomic(path.join(batches, MARKER), { url, md5, extractedAt: new Date().toISOString() });
  return batches;
}
