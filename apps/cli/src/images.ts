import fs from 'node:fs/promises';
import path from 'node:path';
import { shrinkToFitU8 } from '@vitlens/cifar10-data';
import { ImageDecodeError, type RgbImage, decodeImage } from '@vitlens/core';

/** An image read from a file: `@vitlens/core`'s `RgbImage` plus where it came from. */
export interface ImageFile extends RgbImage {
  /** The file it came from. */
  source: string;
  /** The size of the file's image when this one was shrunk from it (`readImage`'s `maxSide`). */
  original?: { width: number; height: number };
}

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

/**
 * One image file that cannot be read or decoded; the message is `<file>: <reason>`. Commands
 * over many images report it and carry on with the rest (`readImages`' `onUnreadable`).
 */
export class ImageReadError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ImageReadError';
  }
}

/** An image a command skipped, and why (`vitlens predict --json` lists them under `unreadable`). */
export interface UnreadableImage {
  image: string;
  reason: string;
}

/**
 * Longest side the images predict and visualize work on: a larger image is shrunk (area
 * averaging) right after decoding, so a 12 MP photo costs its decode and nothing more. Larger than
 * any model input (ViT-B: 224, HF models up to 384), so model inputs are resized from it as before.
 */
export const WORKING_MAX_SIDE = 1024;

/** `image` with its longer side at most `maxSide` (area averaging); unchanged when it already fits. */
export function shrinkImage(image: ImageFile, maxSide: number): ImageFile {
  if (Math.max(image.width, image.height) <= maxSide) return image;
  const small = shrinkToFitU8(image.data, image.height, image.width, maxSide);
  return { ...small, source: image.source, original: image.original ?? { width: image.width, height: image.height } };
}

/**
 * Read and decode one image file; with `maxSide`, shrink it at once (`shrinkImage`) so the
 * full-size pixels are garbage as soon as this returns.
 */
export async function readImage(file: string, options: { maxSide?: number } = {}): Promise<ImageFile> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ImageReadError(file, code === 'ENOENT' ? 'no such image file' : `cannot be read (${(error as Error).message})`);
  }
  let image: ImageFile;
  try {
    image = { ...decodeImage(bytes, file), source: file };
  } catch (error) {
    throw error instanceof ImageDecodeError ? new ImageReadError(file, error.reason) : error;
  }
  return options.maxSide === undefined ? image : shrinkImage(image, options.maxSide);
}

/**
 * `readImage` for a command over many files: with `onUnreadable`, a file that cannot be read or
 * decoded is handed to it and comes back `undefined`; without, its `ImageReadError` is thrown.
 */
export async function readImageOrSkip(
  file: string,
  options: { maxSide?: number; onUnreadable?: ((skipped: UnreadableImage) => void) | undefined },
): Promise<ImageFile | undefined> {
  try {
    return await readImage(file, options.maxSide === undefined ? {} : { maxSide: options.maxSide });
  } catch (error) {
    if (!(error instanceof ImageReadError) || !options.onUnreadable) throw error;
    options.onUnreadable({ image: file, reason: error.reason });
    return undefined;
  }
}

/**
 * For a command over many images: `onUnreadable` prints one line per skipped file to stderr
 * (`vitlens: skipped <file>: <reason>`) as it comes; `throwIfAny(total)`, called once the rest are
 * printed, throws when any were skipped, so the command exits non-zero.
 */
export function reportUnreadable(write: (line: string) => void = (line) => process.stderr.write(line)): {
  skipped: UnreadableImage[];
  onUnreadable: (skipped: UnreadableImage) => void;
  throwIfAny: (total: number) => void;
} {
  const skipped: UnreadableImage[] = [];
  return {
    skipped,
    onUnreadable(s) {
      skipped.push(s);
      write(`vitlens: skipped ${s.image}: ${s.reason}\n`);
    },
    throwIfAny(total) {
      if (skipped.length === 0) return;
      const done = total - skipped.length;
      throw new Error(
        total === 1
          ? 'the image could not be read'
          : done === 0
            ? `none of the ${total} images could be read (each is named above)`
          : `${skipped.length} of ${total} images could not be read (each is named above); the other ${done} were processed`,
      );
    },
  };
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
