import { type HeatmapOptions, type OverlayOptions, heatmapImage, overlayHeatmap, toRgba } from '../overlay';
import type { AttentionMap, PixelImage, RgbaImage } from '../types';

/** A DOM canvas or an OffscreenCanvas. */
export type CanvasTarget = HTMLCanvasElement | OffscreenCanvas;

export interface DrawOptions {
  /** Draw each image pixel as `scale × scale` canvas pixels (nearest neighbour; default 1). */
  scale?: number;
}

function context2d(canvas: CanvasTarget): CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) throw new Error('drawAttentionOverlay: the canvas has no 2d context');
  return ctx;
}

function scratchCanvas(width: number, height: number): CanvasTarget {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  return c;
}

/** Resize `canvas` to the image (× scale) and draw the RGBA pixels on it. */
export function drawRgba(canvas: CanvasTarget, image: RgbaImage, options: DrawOptions = {}): void {
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale <= 0) throw new Error(`drawRgba: scale must be a positive integer, got ${String(scale)}`);
  canvas.width = image.width * scale;
  canvas.height = image.height * scale;
  const ctx = context2d(canvas);
  const pixels = new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
  if (scale === 1) {
    ctx.putImageData(pixels, 0, 0);
    return;
  }
  const scratch = scratchCanvas(image.width, image.height);
  context2d(scratch).putImageData(pixels, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

/**
 * Draw `map` as a colormap overlay on the original image: computes `overlayHeatmap(image, map)` and
 * draws it on `canvas` (resized to the image × scale). Returns the overlay pixels.
 */
export function drawAttentionOverlay(
  canvas: CanvasTarget,
  image: PixelImage,
  map: AttentionMap,
  options: OverlayOptions & DrawOptions = {},
): RgbaImage {
  const overlay = overlayHeatmap(image, map, options);
  drawRgba(canvas, overlay, options);
  return overlay;
}

/** Draw `map` alone, coloured and upsampled to `height × width` (default: the map's own size). */
export function drawHeatmap(
  canvas: CanvasTarget,
  map: AttentionMap,
  options: HeatmapOptions & DrawOptions & { height?: number; width?: number } = {},
): RgbaImage {
  const heat = heatmapImage(map, options.height ?? map.height, options.width ?? map.width, options);
  drawRgba(canvas, heat, options);
  return heat;
}

/** Read the pixels of anything a canvas can draw (an `<img>`, a bitmap, a video frame) as RGBA. */
export function pixelsFromImageSource(source: CanvasImageSource, width: number, height: number): RgbaImage {
  const scratch = scratchCanvas(width, height);
  const ctx = context2d(scratch);
  ctx.drawImage(source, 0, 0, width, height);
  const data = ctx.getImageData(0, 0, width, height).data;
  return toRgba({ data: new Uint8ClampedArray(data), width, height, channels: 4 });
}

/** Load an image URL (same origin or CORS-enabled) and return its pixels at its natural size. */
export async function loadImagePixels(url: string): Promise<RgbaImage> {
  const img = new Image();
  img.crossOrigin = 'anonymous';
  img.src = url;
  try {
    await img.decode();
  } catch {
    throw new Error(`loadImagePixels: could not load or decode the image at ${url}`);
  }
  return pixelsFromImageSource(img, img.naturalWidth, img.naturalHeight);
}
