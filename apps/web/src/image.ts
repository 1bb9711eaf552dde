import type { RgbaImage } from '@vitlens/attention-viz';

/** An input image as the page holds it: decoded by the browser, RGBA for drawing and for the model. */
export interface PageImage {
  /** Where it came from (file name, 'pasted image', a sample path). */
  name: string;
  /** Pixels fed to the model (`explain` drops the alpha): the original size, or scaled down to fit MAX_MODEL_INPUT_SIDE. */
  pixels: RgbaImage;
  /** Size of the file as decoded, before any scaling. */
  naturalWidth: number;
  naturalHeight: number;
}

/**
 * Images larger than this (per side) are first scaled down by the browser (high-quality
 * smoothing), then resized by the model's own preprocessing. It bounds the memory one upload can
 * take (a 12-megapixel photo would be a 36-million-element tensor).
 */
export const MAX_MODEL_INPUT_SIDE = 1024;

/** Thrown for files the browser cannot decode as an image. */
export class NotAnImageError extends Error {
  constructor(name: string, detail: string) {
    super(`${name} is not an image the browser can decode (${detail}); use a PNG, JPEG, WebP, GIF or BMP file`);
    this.name = 'NotAnImageError';
  }
}

function canvas2d(width: number, height: number): CanvasRenderingContext2D {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2d canvas context');
  return ctx;
}

/** Draw `source` at `width × height` and read back RGBA pixels. */
export function rasterize(source: CanvasImageSource, width: number, height: number): RgbaImage {
  const ctx = canvas2d(width, height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, width, height);
  return { data: ctx.getImageData(0, 0, width, height).data, width, height };
}

/** Scale (width, height) so that the longer side is `side`, keeping the aspect ratio. */
export function fitSide(width: number, height: number, side: number): { width: number; height: number } {
  const s = side / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/**
 * Read a file, a pasted blob or a fetched body with the browser's decoder (any format it knows).
 * Rejects with `NotAnImageError` naming it.
 */
export async function readImageBlob(blob: Blob, name: string): Promise<PageImage> {
  if (blob.size === 0) throw new NotAnImageError(name, 'the file is empty');
  if (blob.type !== '' && !blob.type.startsWith('image/')) throw new NotAnImageError(name, `its type is ${blob.type}`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch (error) {
    throw new NotAnImageError(name, error instanceof Error ? error.message : String(error));
  }
  try {
    const { width, height } = bitmap;
    const size = Math.max(width, height) > MAX_MODEL_INPUT_SIDE ? fitSide(width, height, MAX_MODEL_INPUT_SIDE) : { width, height };
    return { name, pixels: rasterize(bitmap, size.width, size.height), naturalWidth: width, naturalHeight: height };
  } finally {
    bitmap.close();
  }
}

/**
 * The image as shown on the page: scaled (up or down) so its longer side is `side`, smoothly,
 * so a 32×32 CIFAR image is not a blur of 32 blocks under its heatmap.
 */
export function displayPixels(image: RgbaImage, side: number): RgbaImage {
  const ctx = canvas2d(image.width, image.height);
  ctx.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  const size = fitSide(image.width, image.height, side);
  return rasterize(ctx.canvas, size.width, size.height);
}
