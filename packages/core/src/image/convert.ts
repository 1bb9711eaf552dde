import { rgbaToRgb } from './decode';
import { ImageDecodeError, type ImageSource, type RgbImage, type RgbaPixels } from './types';

type Canvas2d = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/**
 * The one place the runtime is asked how to draw: an `OffscreenCanvas` (browsers, workers), else a
 * DOM `<canvas>`, else nothing (Node: only pixel objects are converted). Chosen on first use.
 */
let canvasFactory: ((width: number, height: number) => Canvas2d) | null | undefined;

function makeCanvas(width: number, height: number, what: string): Canvas2d {
  if (canvasFactory === undefined) {
    if (typeof OffscreenCanvas !== 'undefined') {
      canvasFactory = (w, h) => new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true }) as Canvas2d;
    } else if (typeof document !== 'undefined') {
      canvasFactory = (w, h) => {
        const canvas = document.createElement('canvas');
        canvas.width = w;
        canvas.height = h;
        return canvas.getContext('2d', { willReadFrequently: true }) as Canvas2d;
      };
    } else {
      canvasFactory = null;
    }
  }
  if (canvasFactory === null) {
    throw new ImageDecodeError(
      what,
      'drawing it needs a canvas (a browser or worker); in Node decode the file with decodeImage(bytes, name) or pass { data, width, height } pixels',
      'source',
    );
  }
  const ctx = canvasFactory(width, height);
  if (!ctx) throw new ImageDecodeError(what, 'this runtime gives no 2d canvas context to read its pixels', 'source');
  return ctx;
}

function isPixels(source: unknown): source is RgbaPixels {
  const s = source as { data?: unknown; width?: unknown; height?: unknown };
  return (
    typeof s === 'object' &&
    s !== null &&
    (s.data instanceof Uint8Array || s.data instanceof Uint8ClampedArray) &&
    typeof s.width === 'number' &&
    typeof s.height === 'number'
  );
}

/** Natural size of something a canvas can draw (an `<img>` reports its decoded size, a `<video>` its frame's). */
function drawableSize(source: ImageSource): { width: number; height: number } {
  const s = source as { naturalWidth?: number; naturalHeight?: number; videoWidth?: number; videoHeight?: number; width?: number; height?: number };
  if (typeof s.naturalWidth === 'number') return { width: s.naturalWidth, height: s.naturalHeight ?? 0 };
  if (typeof s.videoWidth === 'number') return { width: s.videoWidth, height: s.videoHeight ?? 0 };
  return { width: s.width ?? 0, height: s.height ?? 0 };
}

function describe(source: unknown): string {
  if (source === null || source === undefined) return String(source);
  if (typeof source !== 'object' && typeof source !== 'function') return `a ${typeof source}`;
  const name = (source as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : typeof source === 'object' ? 'an object' : `a ${typeof source}`;
}

/**
 * Any image vitlens takes → an `RgbImage` (8-bit RGB, `[height, width, 3]`):
 * - an `RgbImage` (3 bytes a pixel) is returned as it is;
 * - RGBA pixels (`ImageData`, or `{ data, width, height }` with 4 bytes a pixel) lose their alpha;
 * - in a browser, an `<img>` (loaded), `<canvas>`, `<video>`, `OffscreenCanvas` or `ImageBitmap` is
 *   drawn on a canvas at its natural size and read back.
 *
 * `name` (default: 'image') starts error messages, which say what was expected.
 */
export function toRgbImage(source: ImageSource, name = 'image'): RgbImage {
  if (isPixels(source)) {
    const { width, height, data } = source;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new ImageDecodeError(name, `width and height must be positive integers, got ${width}×${height}`, 'source');
    }
    const n = width * height;
    if (data.length === n * 3) return data instanceof Uint8Array ? { data, width, height } : { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
    if (data.length === n * 4) return { data: rgbaToRgb(data, width, height), width, height };
    throw new ImageDecodeError(
      name,
      `${data.length} bytes do not fill ${width}×${height} pixels; expected ${n * 3} (RGB) or ${n * 4} (RGBA)`,
      'source',
    );
  }
  if (typeof source !== 'object' || source === null) {
    throw new ImageDecodeError(
      name,
      `expected an RgbImage, ImageData or { data, width, height } pixels, or in a browser an <img>, <canvas>, OffscreenCanvas or ImageBitmap; got ${describe(source)}`,
      'source',
    );
  }
  const { width, height } = drawableSize(source);
  if (!(width > 0 && height > 0)) {
    throw new ImageDecodeError(
      name,
      `${describe(source)} of ${width}×${height} pixels has nothing to draw (an <img> must be loaded first: await img.decode())`,
      'source',
    );
  }
  const ctx = makeCanvas(width, height, name);
  ctx.drawImage(source as CanvasImageSource, 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  return { data: rgbaToRgb(rgba, width, height), width, height };
}
