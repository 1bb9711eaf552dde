import { DataError } from './errors';
import type { ImageDataset } from './types';

/** CIFAR-10 binary record: 1 label byte + 1024 R + 1024 G + 1024 B bytes (row-major 32×32 planes). */
export const CIFAR_SIZE = 32;
export const CIFAR_PIXELS = CIFAR_SIZE * CIFAR_SIZE * 3;
export const CIFAR_RECORD_BYTES = 1 + CIFAR_PIXELS;
/** Records per file in the official release. */
export const CIFAR_RECORDS_PER_FILE = 10_000;
export const CIFAR10_CLASS_NAMES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;
/** Files of each split in `cifar-10-batches-bin`. */
export const CIFAR_SPLIT_FILES: Record<string, readonly string[]> = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
};

export interface ParseBatchOptions {
  /** File name or URL used in error messages. */
  source?: string;
  /** Labels must be below this (default 10). */
  numClasses?: number;
  /** The most records one file may hold (default 10,000, as in the official release). */
  maxRecords?: number;
}

/**
 * Parse one CIFAR-10 binary batch file into HWC pixels and labels.
 *
 * Throws a `DataError` naming the file when its size is not a whole number of 3073-byte records,
 * holds more records than `maxRecords`, or a label is out of range.
 */
export function parseCifarBatch(bytes: Uint8Array | ArrayBuffer, options: ParseBatchOptions = {}): { images: Uint8Array; labels: Uint8Array; count: number } {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const source = options.source ?? '<buffer>';
  const numClasses = options.numClasses ?? 10;
  const maxRecords = options.maxRecords ?? CIFAR_RECORDS_PER_FILE;
  if (data.length === 0 || data.length % CIFAR_RECORD_BYTES !== 0) {
    const whole = Math.floor(data.length / CIFAR_RECORD_BYTES);
    throw new DataError(
      `${source}: ${data.length} bytes is not a multiple of ${CIFAR_RECORD_BYTES} (1 label + ${CIFAR_PIXELS} pixels); ` +
        `it holds ${whole} whole record(s) and ${data.length - whole * CIFAR_RECORD_BYTES} extra byte(s) — the file is truncated or not a CIFAR-10 batch`,
      source,
      'size',
    );
  }
  const count = data.length / CIFAR_RECORD_BYTES;
  if (count > maxRecords) {
    throw new DataError(
      `${source}: ${data.length} bytes is ${count} records of ${CIFAR_RECORD_BYTES} bytes, more than the ${maxRecords} a CIFAR-10 batch file holds (${maxRecords * CIFAR_RECORD_BYTES} bytes)`,
      source,
      'size',
    );
  }
  const plane = CIFAR_SIZE * CIFAR_SIZE;
  const images = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const base = r * CIFAR_RECORD_BYTES;
    const label = data[base]!;
    if (label >= numClasses) {
      throw new DataError(`${source}: record ${r} (byte offset ${base}) has label ${label}; labels must be 0..${numClasses - 1}`, source, 'label');
    }
    labels[r] = label;
    // CHW planes [3, 32, 32] → HWC [32, 32, 3]
    const out = r * CIFAR_PIXELS;
    for (let p = 0; p < plane; p++) {
      images[out + p * 3] = data[base + 1 + p]!;
      images[out + p * 3 + 1] = data[base + 1 + plane + p]!;
      images[out + p * 3 + 2] = data[base + 1 + 2 * plane + p]!;
    }
  }
  return { images, labels, count };
}

/** Inverse of `parseCifarBatch`: HWC pixels + labels → binary records (for tests and exports). */
export function encodeCifarBatch(images: Uint8Array, labels: Uint8Array): Uint8Array {
  const count = labels.length;
  if (images.length !== count * CIFAR_PIXELS) {
    throw new DataError(`encodeCifarBatch: ${images.length} pixel bytes do not match ${count} labels × ${CIFAR_PIXELS}`, undefined, 'images');
  }
  const plane = CIFAR_SIZE * CIFAR_SIZE;
  const out = new Uint8Array(count * CIFAR_RECORD_BYTES);
  for (let r = 0; r < count; r++) {
    const base = r * CIFAR_RECORD_BYTES;
    out[base] = labels[r]!;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[base + 1 + c * plane + p] = images[r * CIFAR_PIXELS + p * 3 + c]!;
    }
  }
  return out;
}

/** `batches.meta.txt`: one class name per line (blank lines ignored). */
export function parseBatchesMeta(text: string, source = 'batches.meta.txt'): string[] {
  const names = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (names.length === 0) throw new DataError(`${source}: no class names found (expected one name per line)`, source, 'classNames');
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new DataError(`${source}: class name "${name}" appears twice`, source, 'classNames');
    seen.add(name);
  }
  return names;
}

/** Concatenate parsed parts (same height/width/classes) into one dataset. */
export function concatParts(
  parts: { images: Uint8Array; labels: Uint8Array; count: number }[],
  info: { classNames: string[]; height: number; width: number; source: string },
): ImageDataset {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const pixels = info.height * info.width * 3;
  const images = new Uint8Array(count * pixels);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const part of parts) {
    images.set(part.images, at * pixels);
    labels.set(part.labels, at);
    at += part.count;
  }
  return { images, labels, classNames: [...info.classNames], count, height: info.height, width: info.width, source: info.source };
}

/** Anything the browser can hand us: bytes, a Blob/File, or a URL to fetch. */
export type BinarySource = Uint8Array | ArrayBuffer | Blob | string | URL;

async function sourceBytes(src: BinarySource, name: string): Promise<Uint8Array> {
  if (src instanceof Uint8Array) return src;
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  if (typeof Blob !== 'undefined' && src instanceof Blob) return new Uint8Array(await src.arrayBuffer());
  const url = String(src);
  const response = await fetch(url);
  if (!response.ok) throw new DataError(`${url}: HTTP ${response.status} ${response.statusText}`, name, 'url');
  return new Uint8Array(await response.arrayBuffer());
}

function sourceName(src: BinarySource, index: number): string {
  if (typeof src === 'string') return src;
  if (src instanceof URL) return src.href;
  if (typeof File !== 'undefined' && src instanceof File) return src.name;
  return `<batch ${index}>`;
}

/**
 * Browser-safe: parse CIFAR-10 binary batches given as bytes, Blobs/Files or URLs (fetched) into
 * one dataset. `classNames` defaults to the CIFAR-10 names.
 */
export async function loadCifarBinary(
  sources: readonly BinarySource[],
  options: { classNames?: string[]; source?: string } = {},
): Promise<ImageDataset> {
  const classNames = options.classNames ?? [...CIFAR10_CLASS_NAMES];
  const parts = [];
  for (let i = 0; i < sources.length; i++) {
    const src = sources[i]!;
    const name = sourceName(src, i);
    parts.push(parseCifarBatch(await sourceBytes(src, name), { source: name, numClasses: classNames.length }));
  }
  return concatParts(parts, {
    classNames,
    height: CIFAR_SIZE,
    width: CIFAR_SIZE,
    source: options.source ?? sources.map((s, i) => sourceName(s, i)).join(', '),
  });
}
