// Public API of @vitlens/cifar10-data (browser-safe).
export const version = '0.1.0';

export type { Augmentation, AugmentPolicy, Batch, BatchIteratorOptions, ImageDataset } from './types';
export { DataError } from './errors';
export {
  CIFAR10_CLASS_NAMES,
  CIFAR_PIXELS,
  CIFAR_RECORD_BYTES,
  CIFAR_RECORDS_PER_FILE,
  CIFAR_SIZE,
  CIFAR_SPLIT_FILES,
  concatParts,
  encodeCifarBatch,
  loadCifarBinary,
  parseBatchesMeta,
  parseCifarBatch,
  type BinarySource,
  type ParseBatchOptions,
} from './binary';
export { MAX_IMAGE_PIXELS, checkImageSize, decodeImage, readImageSize, sniffImageFormat, type DecodedImage } from './decode';
export { resizeBilinearU8, shrinkToFitU8 } from './resize';
export { DatasetAssembler, describeRepairs, type AssembleOptions } from './assemble';
export { balancedHead, stratifiedSplit } from './split';
export { batchIterator } from './batch';
export { compose, cutout, horizontalFlip, randomCrop } from './augment/basic';
export { autocontrast, brightness, color, contrast, equalize, posterize, sharpness, solarize } from './augment/color';
export { affine, rotate, shearX, shearY, translate } from './augment/geometry';
export { RANDAUGMENT_OPS, randAugment, type RandAugmentOptions } from './augment/randaugment';
export { mixBatch, sampleBeta, sampleGamma } from './augment/mix';
export { augmentPolicyNames, getAugmentPolicy, registerAugmentPolicy } from './augment/registry';
