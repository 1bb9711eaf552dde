import { type ColormapName, checkColormap, colormapIndex, colormapTable } from './colormaps/index';
import { type NormalizeOptions, normalizeMap } from './maps/normalize';
import { upsampleBilinear } from './maps/upsample';
import { checkMap } from './maps/validate';
import type { AttentionMap, PixelImage, RgbaImage } from './types';

export interface HeatmapOptions {
  /** Colormap (default 'viridis'). */
  colormap?: ColormapName;
  /** How the map is scaled to [0, 1] before colouring (default min-max). */
  normalize?: NormalizeOptions;
}

export interface OverlayOptions extends HeatmapOptions {
  /** Weight of the heatmap: `out = (1 − alpha)·image + alpha·colour` (default 0.5). */
  alpha?: number;
}

/** Channels of an image, checked against its data length. */
export function imageChannels(image: PixelImage, where = 'image'): 3 | 4 {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`${where}: width and height must be positive integers, got ${String(width)}×${String(height)}`);
  }
  const channels = image.channels ?? (data.length === width * height * 4 ? 4 : 3);
  if (channels !== 3 && channels !== 4) throw new Error(`${where}: channels must be 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
  if (data.length !== width * height * channels) {
    throw new Error(`${where}: ${data.length} bytes do not fill ${width}×${height}×${channels} (${width * height * channels} expected)`);
  }
  return channels;
}

/** Any 8-bit RGB/RGBA image as RGBA (alpha kept, or 255). */
export function toRgba(image: PixelImage): RgbaImage {
  const channels = imageChannels(image, 'toRgba');
  const n = image.width * image.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = image.data[i * channels] as number;
    out[i * 4 + 1] = image.data[i * channels + 1] as number;
    out[i * 4 + 2] = image.data[i * channels + 2] as number;
    out[i * 4 + 3] = channels === 4 ? (image.data[i * 4 + 3] as number) : 255;
  }
  return { data: out, width: image.width, height: image.height };
}

/** Normalise, upsample (bilinear) to `height × width` and colour a map: an opaque RGBA image. */
export function heatmapImage(map: AttentionMap, height: number, width: number, options: HeatmapOptions = {}): RgbaImage {
  checkMap('heatmapImage', map);
  const table = colormapTable(checkColormap(options.colormap ?? 'viridis', 'heatmapImage'));
  const normalized = normalizeMap(map, options.normalize);
  const scaled = map.height === height && map.width === width ? normalized : upsampleBilinear(normalized, height, width);
  const out = new Uint8ClampedArray(height * width * 4);
  for (let i = 0; i < height * width; i++) {
    const k = colormapIndex(scaled.data[i] as number) * 3;
    out[i * 4] = Math.round((table[k] as number) * 255);
    out[i * 4 + 1] = Math.round((table[k + 1] as number) * 255);
    out[i * 4 + 2] = Math.round((table[k + 2] as number) * 255);
    out[i * 4 + 3] = 255;
  }
  return { data: out, width, height };
}

/**
 * Blend a coloured map over the ORIGINAL image (8-bit pixels as loaded, not the model's normalised
 * input): the map is normalised, upsampled to the image size and coloured, then
 * `out = (1 − alpha)·image + alpha·colour`. Returns RGBA at the image size.
 */
export function overlayHeatmap(image: PixelImage, map: AttentionMap, options: OverlayOptions = {}): RgbaImage {
  const channels = imageChannels(image, 'overlayHeatmap');
  const alpha = options.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`overlayHeatmap: alpha must be in [0, 1], got ${String(alpha)}`);
  const heat = heatmapImage(map, image.height, image.width, options);
  const n = image.width * image.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      out[i * 4 + c] = Math.round((1 - alpha) * (image.data[i * channels + c] as number) + alpha * (heat.data[i * 4 + c] as number));
    }
    out[i * 4 + 3] = 255;
  }
  return { data: out, width: image.width, height: image.height };
}

/** Enlarge an image by an integer factor, each pixel becoming a `scale × scale` block (nearest neighbour). */
export function enlargeNearest(image: PixelImage, scale: number): RgbaImage {
  if (!Number.isInteger(scale) || scale <= 0) throw new Error(`enlargeNearest: scale must be a positive integer, got ${String(scale)}`);
  const src = toRgba(image);
  if (scale === 1) return src;
  const width = src.width * scale;
  const height = src.height * scale;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < width; x++) {
      const s = (sy * src.width + Math.floor(x / scale)) * 4;
      const d = (y * width + x) * 4;
      out[d] = src.data[s] as number;
      out[d + 1] = src.data[s + 1] as number;
      out[d + 2] = src.data[s + 2] as number;
      out[d + 3] = src.data[s + 3] as number;
    }
  }
  return { data: out, width, height };
}
