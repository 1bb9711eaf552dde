import * as tf from '@tensorflow/tfjs-core';

/** The one `@tensorflow/tfjs-core` instance every vitlens package uses. */
export { tf };
export {
  BACKEND_NAMES,
  BackendUnavailableError,
  NODE_BACKEND_NAMES,
  detectRuntime,
  initBackend,
  nativeTensorflowVersion,
  type BackendAttempt,
  type BackendChoice,
  type BackendName,
  type InitBackendOptions,
} from './backend';
export { registerGradients } from './gradients';
export {
  FUSED_KERNELS,
  type FusedKernelName,
  NATIVE_KERNELS,
  type NativeKernelName,
  erf32,
  fastWasmKernelsActive,
  fusedKernel,
  registerFastWasmKernels,
  registerFusedWasmKernels,
  registerNativeKernels,
  unregisterFastWasmKernels,
  unregisterFusedWasmKernels,
  unregisterNativeKernels,
} from './kernels';
export { Rng, type RngState } from './rng';
export { MemoryGuard, TensorLeakError, expectFlatMemory, type LeakRecord } from './memory';
export * from './safetensors';
export { version } from './version';
export {
  CIFAR10_MEAN,
  CIFAR10_STD,
  HF_VIT_MEAN,
  HF_VIT_STD,
  pixelsToTensor,
  preprocessPixels,
  type PreprocessOptions,
} from './preprocess';
export {
  ImageDecodeError,
  MAX_IMAGE_PIXELS,
  checkImageSize,
  decodeImage,
  readImageSize,
  rgbaToRgb,
  sniffImageFormat,
  toRgbImage,
  type DecodeImageOptions,
  type ImageSource,
  type RgbImage,
  type RgbaPixels,
} from './image/index';
