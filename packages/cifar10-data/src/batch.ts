import { Rng, pixelsToTensor } from '@vitlens/core';
import { mixBatch } from './augment/mix';
import { getAugmentPolicy } from './augment/registry';
import { DataError } from './errors';
import type { Augmentation, Batch, BatchIteratorOptions, ImageDataset } from './types';

interface PreparedBatch {
  pixels: Uint8Array; // [B, h, w, 3] uint8, augmented
  labels: Int32Array;
  indices: Int32Array;
  targets?: Float32Array;
}

const defer: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0);

/**
 * Batches of `indices` from `dataset` as preprocessed float32 tensors `[B, H', W', 3]`.
 *
 * Augmentation runs on uint8 pixels at the dataset's size, then core's `pixelsToTensor` resizes,
 * rescales and normalises one batch at a time, so the whole set is never held at the model's
 * input size. Creating the iterator draws one 32-bit seed from `opts.rng`; the epoch's shuffle and
 * every augmentation come from a generator seeded with it, so restoring `rng`'s state before
 * creating the iterator replays the same batches, whatever else uses `rng` meanwhile.
 * With `prefetch` (default), the next batch's pixels are prepared as soon as the event loop is
 * free after a batch is handed out. The caller disposes `batch.images`.
 */
export function batchIterator(
  dataset: ImageDataset,
  indices: Int32Array,
  opts: BatchIteratorOptions,
): AsyncIterableIterator<Batch> & { length: number } {
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new DataError(`batchIterator: batchSize must be a positive integer, got ${batchSize}`, undefined, 'batchSize');
  }
  const { height: h, width: w, count } = dataset;
  const size = h * w * 3;
  if (dataset.images.length !== count * size || dataset.labels.length !== count) {
    throw new DataError(
      `batchIterator: ${dataset.source} has ${dataset.images.length} pixel bytes and ${dataset.labels.length} labels, expected ${count * size} and ${count} for ${count} images of ${w}×${h}×3`,
      dataset.source,
      'images',
    );
  }
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new DataError(`batchIterator: indices[${i}] is ${index}, outside 0..${count - 1} of ${dataset.source}`, dataset.source, 'indices');
    }
  }
  for (const [name, alpha] of [['mixup', opts.mixup], ['cutmix', opts.cutmix]] as const) {
    if (alpha !== undefined && !(alpha >= 0)) throw new DataError(`batchIterator: ${name} must be ≥ 0 (a Beta α), got ${alpha}`, undefined, name);
  }
  const augment: Augmentation | null =
    typeof opts.augment === 'function' ? opts.augment : opts.augment && opts.augment !== 'none' ? getAugmentPolicy(opts.augment) : null;
  const mixing = (opts.mixup ?? 0) > 0 || (opts.cutmix ?? 0) > 0;
  const numClasses = dataset.classNames.length;

  const rng = new Rng((opts.rng ?? new Rng(0)).nextUint32());
  const order = Int32Array.from(indices);
  if (opts.shuffle) rng.shuffle(order);
  const length = opts.dropLast ? Math.floor(order.length / batchSize) : Math.ceil(order.length / batchSize);
  const prefetch = opts.prefetch ?? true;

  // CPU side of batch k: gather, augment, mix. Batches are prepared strictly in order, so the
  // random draws are the same with or without prefetch.
  const prepare = (k: number): PreparedBatch => {
    const rows = order.subarray(k * batchSize, Math.min(order.length, (k + 1) * batchSize));
    const batch = rows.length;
    const pixels = new Uint8Array(batch * size); // [B, h, w, 3]
    const labels = new Int32Array(batch);
    for (let i = 0; i < batch; i++) {
      const index = rows[i]!;
      const img = pixels.subarray(i * size, (i + 1) * size);
      img.set(dataset.images.subarray(index * size, (index + 1) * size));
      labels[i] = dataset.labels[index]!;
      if (augment) augment(img, h, w, rng);
    }
    const prepared: PreparedBatch = { pixels, labels, indices: Int32Array.from(rows) };
    if (mixing) prepared.targets = mixBatch(pixels, labels, { batch, height: h, width: w }, numClasses, opts, rng);
    return prepared;
  };

  let next = 0;
  let finished = false;
  let pending: Promise<PreparedBatch> | null = null;
  const schedule = (k: number) => {
    pending = new Promise<PreparedBatch>((resolve, reject) =>
      defer(() => {
        try {
          resolve(prepare(k));
        } catch (error) {
          reject(error);
        }
      }),
    );
    // A failure surfaces from the next() that awaits it; don't report it as unhandled meanwhile.
    pending.catch(() => {});
  };

  const iterator = {
    length,
    async next(): Promise<IteratorResult<Batch>> {
      if (finished || next >= length) {
        finished = true;
        return { done: true, value: undefined };
      }
      const k = next++;
      let prepared: PreparedBatch;
      if (pending) {
        const p: Promise<PreparedBatch> = pending;
        pending = null;
        prepared = await p;
      } else {
        prepared = prepare(k);
      }
      if (prefetch && next < length) schedule(next);
      const images = pixelsToTensor(prepared.pixels, [prepared.labels.length, h, w, 3], opts.preprocess);
      const batch: Batch = { images, labels: prepared.labels, indices: prepared.indices };
      if (prepared.targets) batch.targets = prepared.targets;
      return { done: false, value: batch };
    },
    async return(): Promise<IteratorResult<Batch>> {
      finished = true;
      pending = null;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
