// jpeg-js and pngjs are CommonJS; their default export is the module object. Browser bundles map both
// to an empty module (package.json "browser"), where `decodeImage` says to use the browser's decoder.
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { ImageDecodeError, type RgbImage } from './types';

/**
 * Largest image decoded, in pixels (40 megapixels: a high-resolution phone photo). Decoding holds
 * several bytes per pixel (a 40 MP PNG passes ~450 MB through pngjs), so larger images are refused
 * from their header, before any pixel is decoded.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];
const SIGNATURES = 'the signature FF D8 FF or 89 50 4E 47';

/** What the bytes say the format is (`null` when neither JPEG nor PNG). */
export function sniffImageFormat(bytes: Uint8Array): 'jpeg' | 'png' | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 4 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

/**
 * Width and height from a JPEG's or PNG's header, without decoding: PNG's IHDR, JPEG's first
 * start-of-frame marker. `null` when the bytes are neither or the header is cut short.
 */
export function readImageSize(bytes: Uint8Array): { format: 'jpeg' | 'png'; width: number; height: number } | null {
  const format = sniffImageFormat(bytes);
  const u16 = (i: number) => ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  if (format === 'png') {
    // signature (8), IHDR length (4), "IHDR" (4), width (4), height (4)
    if (bytes.length < 24) return null;
    const u32 = (i: number) => ((u16(i) << 16) >>> 0) + u16(i + 2);
    return { format, width: u32(16), height: u32(20) };
  }
  if (format === 'jpeg') {
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) return null;
      const marker = bytes[i + 1] as number;
      if (marker === 0xff) {
        i++; // fill byte
        continue;
      }
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision (1), height (2), width (2)
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { format, width: u16(i + 7), height: u16(i + 5) };
      }
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        i += 2; // markers without a length
        continue;
      }
      i += 2 + u16(i + 2);
    }
    return null;
  }
  return null;
}

/**
 * Refuse an image whose header says it is over `maxPixels`, naming the file, its size and the limit:
 * `ImageDecodeError` with field 'size'.
 */
export function checkImageSize(bytes: Uint8Array, name: string, maxPixels = MAX_IMAGE_PIXELS): void {
  const size = readImageSize(bytes);
  if (size === null || size.width * size.height <= maxPixels) return;
  const mp = (n: number) => `${(n / 1e6).toFixed(1)} MP`;
  throw new ImageDecodeError(
    name,
    `${size.width}×${size.height} pixels (${mp(size.width * size.height)}) is over the ${mp(maxPixels)} limit; scale the image down first`,
    'size',
  );
}

export interface DecodeImageOptions {
  /** Refuse images over this many pixels, from their header (default `MAX_IMAGE_PIXELS`, 40 MP). */
  maxPixels?: number;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ') || 'none: the file is empty';
}

/** RGBA (pngjs' output) → RGB, dropping alpha as PIL's `convert('RGB')` does. */
export function rgbaToRgb(rgba: ArrayLike<number>, width: number, height: number): Uint8Array {
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    rgb[p * 3] = rgba[p * 4] as number;
    rgb[p * 3 + 1] = rgba[p * 4 + 1] as number;
    rgb[p * 3 + 2] = rgba[p * 4 + 2] as number;
  }
  return rgb;
}

/**
 * Decode JPEG or PNG bytes (recognised by their signature, not the name) to an `RgbImage`, in pure
 * JavaScript (jpeg-js, pngjs). PNG alpha is dropped, as PIL's `convert('RGB')` does; grey and palette
 * PNGs expand to RGB. An image over `maxPixels` is refused from its header, before decoding, and a
 * truncated JPEG fails rather than coming back half grey. Errors are `ImageDecodeError`s naming `name`:
 * `cat.jpg: corrupt or unsupported JPEG (…)`.
 *
 * Node (and other runtimes with these modules); in a browser bundle, decode with the browser
 * (`createImageBitmap`) and convert with `toRgbImage`.
 */
export function decodeImage(bytes: Uint8Array, name = '<image>', options: DecodeImageOptions = {}): RgbImage {
  const maxPixels = options.maxPixels ?? MAX_IMAGE_PIXELS;
  const format = sniffImageFormat(bytes);
  if (format === null) {
    throw new ImageDecodeError(name, `not a JPEG or PNG image (expected ${SIGNATURES}); its first bytes are ${hex(bytes.subarray(0, 4))}`, 'format');
  }
  checkImageSize(bytes, name, maxPixels);
  const decoders = format === 'jpeg' ? jpeg : pngjs;
  if (typeof decoders !== 'object' || decoders === null || Object.keys(decoders).length === 0) {
    throw new ImageDecodeError(
      name,
      `decodeImage has no ${format.toUpperCase()} decoder in this bundle (jpeg-js and pngjs run in Node); ` +
        'in a browser decode with createImageBitmap(blob) and convert with toRgbImage(bitmap)',
      'source',
    );
  }
  if (format === 'jpeg') {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      // tolerantDecoding off: a truncated scan must fail rather than come back half grey.
      img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: false,
        tolerantDecoding: false,
        maxResolutionInMP: maxPixels / 1e6,
        maxMemoryUsageInMB: 1024,
      });
    } catch (error) {
      throw new ImageDecodeError(name, `corrupt or unsupported JPEG (${(error as Error).message})`, 'pixels');
    }
    if (img.data.length !== img.width * img.height * 3) {
      throw new ImageDecodeError(name, `corrupt or unsupported JPEG (decoded ${img.data.length} bytes for ${img.width}×${img.height}×3)`, 'pixels');
    }
    return { data: img.data, width: img.width, height: img.height };
  }
  let png: { width: number; height: number; data: ArrayLike<number> };
  try {
    const buffer = typeof Buffer !== 'undefined' ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
    png = pngjs.PNG.sync.read(buffer as Buffer);
  } catch (error) {
    throw new ImageDecodeError(name, `corrupt PNG (${(error as Error).message})`, 'pixels');
  }
  return { data: rgbaToRgb(png.data, png.width, png.height), width: png.width, height: png.height };
}
