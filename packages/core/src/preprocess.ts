import * as tf from '@tensorflow/tfjs-core';

/**
 * How raw uint8 pixels become model input; the fields mirror Hugging Face `ViTImageProcessor`
 * (`do_resize`, `size`, `do_rescale`, `rescale_factor`, `do_normalize`, `image_mean`, `image_std`).
 */
export interface PreprocessOptions {
  /** Resize to this size with bilinear interpolation (half-pixel centres, as PIL/torch do). */
  resize?: { height: number; width: number } | undefined;
  /**
   * After resizing, keep the centre `height × width` (HF `center_crop`: top = ⌊(H − h)/2⌋,
   * left = ⌊(W − w)/2⌋), as DeiT's 256 → 224. Must not exceed the resized size.
   */
  centerCrop?: { height: number; width: number } | undefined;
  /** Multiply pixel values by this (HF default 1/255). Omit to keep 0..255. */
  rescaleFactor?: number | undefined;
  /** Per-channel mean and std applied after rescaling. Omit to skip normalisation. */
  mean?: readonly [number, number, number] | undefined;
  std?: readonly [number, number, number] | undefined;
}

/** The CIFAR-10 training-set channel statistics (on 0..1 pixels). */
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465] as const;
export const CIFAR10_STD = [0.247, 0.2435, 0.2616] as const;
/** Hugging Face ViT's normalisation. */
export const HF_VIT_MEAN = [0.5, 0.5, 0.5] as const;
export const HF_VIT_STD = [0.5, 0.5, 0.5] as const;

/**
 * uint8 pixels `[N, H, W, 3]` (HWC, row-major) → float32 model input `[N, H', W', 3]`.
 * Runs inside `tf.tidy`: only the returned tensor stays alive.
 */
export function pixelsToTensor(
  pixels: Uint8Array,
  shape: readonly [number, number, number, number],
  options: PreprocessOptions = {},
): tf.Tensor4D {
  const [n, h, w, c] = shape;
  if (c !== 3) throw new Error(`pixelsToTensor: expected 3 channels (HWC RGB), got shape [${shape.join(', ')}]`);
  if (pixels.length !== n * h * w * c) {
    throw new Error(`pixelsToTensor: ${pixels.length} bytes do not fill shape [${shape.join(', ')}] (${n * h * w * c} expected)`);
  }
  return tf.tidy(() => preprocessPixels(tf.tensor4d(Int32Array.from(pixels), [n, h, w, c], 'int32'), options));
}

/**
 * Pixel values 0..255 already in a tensor `[N, H, W, 3]` (any dtype) → float32 model input
 * `[N, H', W', 3]`, as `pixelsToTensor` does. Does not dispose its input; runs inside `tf.tidy`.
 */
export function preprocessPixels(pixels: tf.Tensor4D, options: PreprocessOptions = {}): tf.Tensor4D {
  const [n, h, w, c] = pixels.shape;
  if (pixels.rank !== 4 || c !== 3) throw new Error(`preprocessPixels: expected [N, H, W, 3] (HWC RGB), got shape [${pixels.shape.join(', ')}]`);
  return tf.tidy(() => {
    let x: tf.Tensor4D = tf.cast(pixels, 'float32');
    if (options.resize && (options.resize.height !== h || options.resize.width !== w)) {
      x = tf.image.resizeBilinear(x, [options.resize.height, options.resize.width], false, true);
    }
    if (options.centerCrop) {
      const [, rh, rw] = x.shape;
      const { height: ch, width: cw } = options.centerCrop;
      if (ch > rh || cw > rw) throw new Error(`pixelsToTensor: centre crop ${ch}×${cw} is larger than the ${rh}×${rw} image`);
      x = tf.slice(x, [0, Math.floor((rh - ch) / 2), Math.floor((rw - cw) / 2), 0], [n, ch, cw, c]);
    }
    if (options.rescaleFactor !== undefined) x = tf.mul(x, options.rescaleFactor);
    if (options.mean && options.std) {
      const mean = tf.tensor1d([...options.mean]);
      const std = tf.tensor1d([...options.std]);
      x = tf.div(tf.sub(x, mean), std);
    }
    return x;
  });
}
