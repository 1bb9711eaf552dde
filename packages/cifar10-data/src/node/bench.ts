import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { HF_VIT_MEAN, HF_VIT_STD, Rng, tf } from '@vitlens/core';
import { DatasetAssembler } from '../assemble';
import { batchIterator } from '../batch';
import type { AugmentPolicy } from '../types';
import { listImageFolder, loadImageFolder } from './imageFolder';

let warnedOldName = false;

/**
 * The shared CIFAR-10 JPEG folder: `$VITLENS_CIFAR10_JPEG`, else `../shared/data/cifar10-jpeg` next
 * to a parent of `from`. The old name `VITLENS_CIFAR_JPEG` is still read, with a deprecation warning.
 */
export function findSharedCifarJpeg(from = process.cwd()): string | null {
  if (process.env.VITLENS_CIFAR10_JPEG) return path.resolve(process.env.VITLENS_CIFAR10_JPEG);
  if (process.env.VITLENS_CIFAR_JPEG) {
    if (!warnedOldName) console.warn('vitlens: VITLENS_CIFAR_JPEG is deprecated; set VITLENS_CIFAR10_JPEG instead');
    warnedOldName = true;
    return path.resolve(process.env.VITLENS_CIFAR_JPEG);
  }
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, '..', 'shared', 'data', 'cifar10-jpeg');
    if (fs.existsSync(candidate)) return path.resolve(candidate);
    if (path.dirname(dir) === dir) return null;
  }
}

export interface BenchDataOptions {
  /** Image-folder root (default `findSharedCifarJpeg()`). */
  root?: string;
  split?: string;
  /** Images decoded for the decode rate (default 5000; spread over all classes). */
  decodeImages?: number;
  batchSize?: number;
  /** Batches per batch-rate measurement (default 10). */
  batches?: number;
  /** Policies to time (default ['basic', 'randaugment']). */
  policies?: AugmentPolicy[];
  /** Square model input sizes to time (default [32, 224]). */
  sizes?: number[];
  /** Repeats per measurement; the median is reported (default 3). */
  repeats?: number;
  /** Also time loading the whole split without the cache and with it (default false: slow). */
  fullLoad?: boolean;
  cacheDir?: string;
  /** Decoding worker threads for the cold load (default 0, as `loadImageFolder`). */
  workers?: number;
  log?: (msg: string) => void;
}

export interface BenchDataResult {
  backend: string;
  root: string;
  decode: { images: number; medianSeconds: number; imagesPerSecond: number };
  batches: { policy: string; size: number; batchSize: number; images: number; medianSeconds: number; imagesPerSecond: number }[];
  load?: { images: number; coldSeconds: number; cachedSeconds: number; workers: number };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timeIt(repeats: number, fn: () => Promise<void> | void): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

/**
 * Throughput of the data pipeline on a real image folder: JPEG decoding (from bytes in memory,
 * single thread) and producing augmented, preprocessed batches at each size. Needs a tfjs backend
 * (call `initBackend` first). With `fullLoad`, also times loading the whole split cold (no cache)
 * and from the decoded cache.
 */
export async function benchData(opts: BenchDataOptions = {}): Promise<BenchDataResult> {
  const root = opts.root ?? findSharedCifarJpeg();
  if (!root) throw new Error('benchData: no image folder; pass opts.root or set VITLENS_CIFAR10_JPEG');
  const split = opts.split ?? 'train';
  const repeats = opts.repeats ?? 3;
  const log = opts.log ?? (() => {});
  const listing = await listImageFolder(root, { split });
  const want = Math.min(opts.decodeImages ?? 5000, listing.files.length);
  const stride = listing.files.length / want;
  const picked = Array.from({ length: want }, (_, i) => listing.files[Math.floor(i * stride)]!);
  const bytes = await Promise.all(picked.map((f) => fsp.readFile(f.file)));
  const decodeSeconds = await timeIt(repeats, () => {
    const asm = new DatasetAssembler({ classNames: listing.classNames, expected: want, source: root });
    for (let i = 0; i < want; i++) asm.add(picked[i]!.file, picked[i]!.label, bytes[i]!);
  });
  log(`decode: ${want} images in ${decodeSeconds.toFixed(3)} s`);

  let load: BenchDataResult['load'];
  if (opts.fullLoad) {
    const t0 = performance.now();
    const cold = await loadImageFolder(root, { split, cache: false, progress: false, workers: opts.workers });
    const coldSeconds = (performance.now() - t0) / 1000;
    await loadImageFolder(root, { split, cacheDir: opts.cacheDir, progress: false }); // fills the cache
    const t1 = performance.now();
    await loadImageFolder(root, { split, cacheDir: opts.cacheDir, progress: false });
    load = { images: cold.count, coldSeconds, cachedSeconds: (performance.now() - t1) / 1000, workers: opts.workers ?? 0 };
    log(`load: ${cold.count} images cold ${coldSeconds.toFixed(2)} s, cached ${load.cachedSeconds.toFixed(2)} s`);
  }

  const dataset = await loadImageFolder(root, { split, cacheDir: opts.cacheDir, progress: false });
  const batchSize = opts.batchSize ?? 64;
  const numBatches = opts.batches ?? 10;
  const indices = Int32Array.from({ length: Math.min(dataset.count, batchSize * numBatches) }, (_, i) => i);
  const batches: BenchDataResult['batches'] = [];
  for (const policy of opts.policies ?? ['basic', 'randaugment']) {
    for (const size of opts.sizes ?? [32, 224]) {
      const rng = new Rng('bench-data');
      const seconds = await timeIt(repeats, async () => {
        const it = batchIterator(dataset, indices, {
          batchSize,
          shuffle: true,
          rng,
          augment: policy,
          preprocess: { resize: { height: size, width: size }, rescaleFactor: 1 / 255, mean: HF_VIT_MEAN, std: HF_VIT_STD },
        });
        for await (const batch of it) batch.images.dispose();
      });
      batches.push({ policy, size, batchSize, images: indices.length, medianSeconds: seconds, imagesPerSecond: indices.length / seconds });
      log(`batches ${policy} ${size}×${size}: ${(indices.length / seconds).toFixed(0)} images/s`);
    }
  }
  return {
    backend: tf.getBackend(),
    root,
    decode: { images: want, medianSeconds: decodeSeconds, imagesPerSecond: want / decodeSeconds },
    batches,
    ...(load ? { load } : {}),
  };
}
