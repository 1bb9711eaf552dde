import fs from 'node:fs/promises';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A decoded image: 8-bit RGB, row-major `[height, width, 3]`. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** The file it came from. */
  source: string;
}

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

/** Largest image accepted, in pixels (a 40-megapixel photo); guards jpeg-js's memory use. */
const MAX_PIXELS = 40_000_000;

function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * Decode JPEG or PNG bytes (recognised by their signature, not the file name) to RGB. PNG alpha is
 * dropped, as PIL's `convert('RGB')` does; grey and palette PNGs expand to RGB.
 */
export function decodeImage(bytes: Uint8Array, source: string): RgbImage {
  if (isPng(bytes)) {
    let png: PNG;
    try {
      png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (error) {
      throw new Error(`${source}: corrupt PNG (${(error as Error).message})`);
    }
    const n = png.width * png.height;
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      rgb[i * 3] = png.data[i * 4] as number;
      rgb[i * 3 + 1] = png.data[i * 4 + 1] as number;
      rgb[i * 3 + 2] = png.data[i * 4 + 2] as number;
    }
    return { data: rgb, width: png.width, height: png.height, source };
  }
  if (isJpeg(bytes)) {
    try {
      const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
      return { data: decoded.data, width: decoded.width, height: decoded.height, source };
    } catch (error) {
      throw new Error(`${source}: corrupt or unsupported JPEG (${(error as Error).message})`);
    }
  }
  throw new Error(`${source}: not a JPEG or PNG image (expected the signature FF D8 FF or 89 50 4E 47)`);
}

/** Read and decode one image file. */
export async function readImage(file: string): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file}: no such image file` : `${file}: cannot be read (${(error as Error).message})`);
  }
  return decodeImage(bytes, file);
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() && (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(e.name).toLowerCase())) out.push(p);
  }
}

/**
 * Expand `--image` arguments: a file stays itself; a folder becomes every .jpg/.jpeg/.png below it,
 * sorted. Errors name the argument that matched nothing.
 */
export async function listImageFiles(specs: readonly string[]): Promise<string[]> {
  if (specs.length === 0) throw new Error('--image: give at least one image file or folder');
  const files: string[] = [];
  for (const spec of specs) {
    let stat: Awaited<ReturnType<typeof fs.stat>>;
    try {
      stat = await fs.stat(spec);
    } catch {
      throw new Error(`--image ${spec}: no such file or folder`);
    }
    if (stat.isDirectory()) {
      const found: string[] = [];
      await walk(spec, found);
      if (found.length === 0) throw new Error(`--image ${spec}: the folder holds no ${IMAGE_EXTENSIONS.join('/')} files`);
      files.push(...found);
    } else {
      files.push(spec);
    }
  }
  return files;
}
