import type { PreprocessOptions, Rng, tf } from '@vitlens/core';

/** The one in-memory form every source yields. */
export interface ImageDataset {
  /** uint8 pixels `[count, height, width, 3]`, HWC, row-major. */
  images: Uint8Array;
  /** One class index per image, `0 ≤ label < classNames.length`. */
  labels: Uint8Array;
  classNames: string[];
  count: number;
  height: number;
  width: number;
  /** Where the data came from (a folder, a file, a URL), for messages. */
  source: string;
  /** Files that did not decode and were skipped (`onBadImage: 'skip'`). */
  skipped?: { file: string; reason: string }[];
  /** Files that were not `height × width` and were resized (`onWrongSize: 'resize'`). */
  resized?: string[];
}

/**
 * An in-place augmentation of one uint8 HWC image (3 channels). It may draw only from `rng`, so a
 * restored RNG state replays it exactly.
 */
export type Augmentation = (img: Uint8Array, height: number, width: number, rng: Rng) => void;

/** Named augmentation policies; see `augmentPolicyNames()` for the registered ones. */
export type AugmentPolicy =
  | 'none'
  | 'flip'
  | 'basic'
  | 'basic-zero'
  | 'cutout'
  | 'randaugment'
  | 'randaugment-cutout'
  | (string & {});

export interface Batch {
  /** `[B, H', W', 3]` float32, preprocessed (resized, rescaled, normalised). The caller disposes it. */
  images: tf.Tensor4D;
  /** Hard labels of the (first) source image of each row. */
  labels: Int32Array;
  /** `[B, numClasses]` row-major soft targets, present when mixup or cutmix is on. */
  targets?: Float32Array;
  /** Dataset indices of the rows, in batch order. */
  indices: Int32Array;
}

export interface BatchIteratorOptions {
  batchSize: number;
  /** How pixels become model input (core's `pixelsToTensor`): resize, rescale, normalise. */
  preprocess: PreprocessOptions;
  /** Shuffle the indices (default false). */
  shuffle?: boolean;
  /** The only source of randomness for shuffling and augmentation (default `new Rng(0)`). */
  rng?: Rng;
  /** A named policy or a custom augmentation (default 'none'). */
  augment?: AugmentPolicy | Augmentation;
  /** Mixup Beta(α, α) parameter; 0 or absent disables it. */
  mixup?: number;
  /** CutMix Beta(α, α) parameter; 0 or absent disables it. */
  cutmix?: number;
  /** Drop a last incomplete batch (default false). */
  dropLast?: boolean;
  /** Prepare the next batch's pixels while the consumer works on this one (default true). */
  prefetch?: boolean;
}
