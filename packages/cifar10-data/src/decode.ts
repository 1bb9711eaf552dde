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
 * Decode a JPEG or PNG (pure JS: jpeg-js, pngjs) to RGB. PNG alpha is dropped, as PIL's
 * `convert('RGB')` does. Throws a `DataError` naming `name` when the bytes do not decode.
 */
export function decodeImage(bytes: Uint8Array, name = '<image>'): DecodedImage {
  const format = sniffImageFormat(bytes);
  if (format === null) {
    throw new DataError(`${name}: not a JPEG or PNG (first bytes ${hex(bytes.subarray(0, 4))})`, name, 'format');
  }
  try {
    if (format === 'jpeg') {
      // tolerantDecoding off: a truncated scan must fail rather than come back half grey.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: 50 });
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
