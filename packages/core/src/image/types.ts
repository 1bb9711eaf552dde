/** An 8-bit RGB image: row-major `[height, width, 3]`, no alpha. The one image type of vitlens. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** An 8-bit RGBA image, row-major `[height, width, 4]` (the layout of canvas `ImageData`). */
export interface RgbaPixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * What `toRgbImage` accepts: an `RgbImage`, RGBA pixels (`ImageData` or `{ data, width, height }`
 * with 4 bytes a pixel), or, in a browser, anything a canvas can draw.
 */
export type ImageSource =
  | RgbImage
  | RgbaPixels
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | OffscreenCanvas
  | ImageBitmap;

/**
 * An image that could not be decoded or converted. `file` names the image, `reason` says what was
 * wrong without the name (for one-line reports), `field` which part: `'format'` (not a JPEG/PNG),
 * `'size'` (over the pixel limit), `'pixels'` (corrupt data) or `'source'` (an unusable input).
 */
export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly field: 'format' | 'size' | 'pixels' | 'source',
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}
