// The decoder is @vitlens/core's (one for every package and app); this module keeps the
// cifar10-data API: positional `maxPixels` and `DataError`s with `file` and `field`.
import {
  MAX_IMAGE_PIXELS,
  ImageDecodeError,
  type RgbImage,
  checkImageSize as coreCheckImageSize,
  decodeImage as coreDecodeImage,
} from '@vitlens/core';
import { DataError } from './errors';

export { MAX_IMAGE_PIXELS, readImageSize, sniffImageFormat } from '@vitlens/core';

/** @deprecated Use `RgbImage` from `@vitlens/core` (the same `{ data, width, height }`, RGB). */
export type DecodedImage = RgbImage;

function asDataError(error: unknown): unknown {
  return error instanceof ImageDecodeError ? new DataError(error.message, error.file, error.field) : error;
}

/**
 * Refuse an image whose header says it is over `maxPixels`, naming the file, its size and the limit.
 * `DataError` with field 'size'.
 */
export function checkImageSize(bytes: Uint8Array, name: string, maxPixels = MAX_IMAGE_PIXELS): void {
  try {
    coreCheckImageSize(bytes, name, maxPixels);
  } catch (error) {
    throw asDataError(error);
  }
}

/**
 * `@vitlens/core`'s `decodeImage` (JPEG/PNG → RGB) with cifar10-data's errors: a `DataError` naming
 * `name`, with field 'format', 'size' or 'pixels'.
 */
export function decodeImage(bytes: Uint8Array, name = '<image>', maxPixels = MAX_IMAGE_PIXELS): RgbImage {
  try {
    return coreDecodeImage(bytes, name, { maxPixels });
  } catch (error) {
    throw asDataError(error);
  }
}
