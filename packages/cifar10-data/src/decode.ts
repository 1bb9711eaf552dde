import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from './errors';

export interface DecodedImage {
  /** uint8 RGB, HWC `[height, width, 3]`. */
  data: Uint8Array;
  height: number;
  width: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

/** What the bytes say the format is (`null` when neither JPEG nor PNG). */
export function sniffImageFormat(bytes: Uint8Array): 'jpeg' | 'png' | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 4 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

/**
 * Largest image decoded, in pixels (40 megapixels: a high-resolution phone photo). Decoding holds
 * several bytes per pixel (a 40 MP PNG passes ~450 MB through pngjs), so larger images are refused
 * from their header, before any pixel is decoded.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;

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
      const marker = bytes[i + 1]!;
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
 * Refuse an image whose header says it is over `maxPixels`, naming the file, its size and the limit.
 * `DataError` with field 'size'.
 */
export function checkImageSize(bytes: Uint8Array, name: string, maxPixels = MAX_IMAGE_PIXELS): void {
  const size = readImageSize(bytes);
  if (size === null || size.width * size.height <= maxPixels) return;
  const mp = (n: number) => `${(n / 1e6).toFixed(1)} MP`;
  throw new DataError(
    `${name}: ${size.width}×${size.height} pixels (${mp(size.width * size.height)}) is over the ${mp(maxPixels)} limit; ` +
      'scale the image down first',
    name,
    'size',
  );
}

/**
 * Decode a JPEG or PNG (pure JS: jpeg-js, pngjs) to RGB. PNG alpha is dropped, as PIL's
 * `convert('RGB')` does. Throws a `DataError` naming `name` when the bytes do not decode, or when
 * the header says the image is over `maxPixels` (checked before decoding).
 */
export function decodeImage(bytes: Uint8Array, name = '<image>', maxPixels = MAX_IMAGE_PIXELS): DecodedImage {
  const format = sniffImageFormat(bytes);
  if (format === null) {
    throw new DataError(`${name}: not a JPEG or PNG (first bytes ${hex(bytes.subarray(0, 4))})`, name, 'format');
  }
  checkImageSize(bytes, name, maxPixels);
  try {
    if (format === 'jpeg') {
      // tolerantDecoding off: a truncated scan must fail rather than come back half grey.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: maxPixels / 1e6 });
      if (img.data.length !== img.width * img.height * 3) throw new Error(`decoded ${img.data.length} bytes for ${img.width}×${img.height}×3`);
      return { data: img.data, height: img.height, width: img.width };
    }
    const buffer = typeof Buffer !== 'undefined' ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
    const png = PNG.sync.read(buffer as Buffer);
    const rgb = new Uint8Array(png.width * png.height * 3);
    // RGBA → RGB
    for (let p = 0, n = png.width * png.height; p < n; p++) {
      rgb[p * 3] = png.data[p * 4]!;
      rgb[p * 3 + 1] = png.data[p * 4 + 1]!;
      rgb[p * 3 + 2] = png.data[p * 4 + 2]!;
    }
    return { data: rgb, height: png.height, width: png.width };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(`${name}: ${format.toUpperCase()} does not decode (${reason})`, name, 'pixels');
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty file)';
}
