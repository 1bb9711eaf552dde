import fs from 'node:fs/promises';
import type { PNG as PngClass } from 'pngjs';
import { toRgba } from '../overlay';
import type { PixelImage, RgbaImage } from '../types';
import { writeFileAtomic } from './atomic';
import { requirePeer } from './optional';

/** pngjs (an optional peer dependency), loaded on the first PNG call. */
const pngjs = (caller: string): typeof PngClass => requirePeer<{ PNG: typeof PngClass }>('pngjs', caller).PNG;

/** Encode 8-bit RGB or RGBA pixels as a PNG (RGBA, 8 bits per channel). */
export function encodePng(image: PixelImage): Uint8Array {
  const PNG = pngjs('encodePng');
  const rgba = toRgba(image);
  const png = new PNG({ width: rgba.width, height: rgba.height });
  png.data = Buffer.from(rgba.data.buffer, rgba.data.byteOffset, rgba.data.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}

/**
 * Decode a PNG (any colour type and bit depth pngjs reads) to 8-bit RGBA.
 * @param source names the input in the error (a file path).
 */
export function decodePng(bytes: Uint8Array, source = 'PNG data'): RgbaImage {
  const PNG = pngjs('decodePng');
  let png: PngClass;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new Error(`${source}: not a readable PNG (${(error as Error).message})`);
  }
  return { data: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height };
}

/** Write pixels to a PNG file atomically (a reader never sees half a file); creates the folder. */
export async function writePng(path: string, image: PixelImage): Promise<void> {
  await writeFileAtomic(path, encodePng(image));
}

/** Read a PNG file as 8-bit RGBA; errors name the file. */
export async function readPng(path: string): Promise<RgbaImage> {
  return decodePng(await fs.readFile(path), path);
}
