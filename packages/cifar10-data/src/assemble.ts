import { type DecodedImage, decodeImage } from './decode';
import { DataError } from './errors';
import { resizeBilinearU8 } from './resize';
import type { ImageDataset } from './types';

export interface AssembleOptions {
  classNames: string[];
  /** Expected images (an upper bound; the arrays grow if more arrive). */
  expected: number;
  /** Target size (default 32×32). */
  height?: number;
  width?: number;
  /** What to do with a file that does not decode (default 'fail'). */
  onBadImage?: 'skip' | 'fail';
  /** What to do with an image of another size (default 'resize', with a warning). */
  onWrongSize?: 'resize' | 'fail';
  source: string;
}

/**
 * Decodes encoded images one by one into a growing `[N, H, W, 3]` array, applying the bad-image and
 * wrong-size policies. Browser-safe; the Node image-folder loader feeds it from disk.
 */
export class DatasetAssembler {
  readonly height: number;
  readonly width: number;
  private images: Uint8Array;
  private labels: Uint8Array;
  private count = 0;
  readonly skipped: { file: string; reason: string }[] = [];
  readonly resized: string[] = [];

  constructor(private readonly options: AssembleOptions) {
    this.height = options.height ?? 32;
    this.width = options.width ?? 32;
    const capacity = Math.max(1, options.expected);
    this.images = new Uint8Array(capacity * this.height * this.width * 3);
    this.labels = new Uint8Array(capacity);
  }

  /** Decode `bytes` (file `name`, class index `label`) and append it. */
  add(name: string, label: number, bytes: Uint8Array): void {
    let decoded: DecodedImage;
    try {
      decoded = decodeImage(bytes, name);
    } catch (error) {
      if (this.options.onBadImage === 'skip') {
        this.skipped.push({ file: name, reason: error instanceof Error ? error.message : String(error) });
        return;
      }
      throw error;
    }
    this.addDecoded(name, label, decoded);
  }

  /** Append an already decoded image, resizing it (or failing) when it is not the target size. */
  addDecoded(name: string, label: number, decoded: DecodedImage): void {
    let pixels = decoded.data;
    if (decoded.height !== this.height || decoded.width !== this.width) {
      if (this.options.onWrongSize === 'fail') {
        throw new DataError(
          `${name}: image is ${decoded.width}×${decoded.height}, expected ${this.width}×${this.height} (use onWrongSize: 'resize' to resize it)`,
          name,
          'size',
        );
      }
      pixels = resizeBilinearU8(pixels, decoded.height, decoded.width, this.height, this.width);
      this.resized.push(name);
    }
    const size = this.height * this.width * 3;
    if (this.count === this.labels.length) this.grow();
    this.images.set(pixels, this.count * size);
    this.labels[this.count] = label;
    this.count++;
  }

  private grow(): void {
    const capacity = this.labels.length * 2;
    const images = new Uint8Array(capacity * this.height * this.width * 3);
    images.set(this.images);
    const labels = new Uint8Array(capacity);
    labels.set(this.labels);
    this.images = images;
    this.labels = labels;
  }

  finish(): ImageDataset {
    const size = this.height * this.width * 3;
    const dataset: ImageDataset = {
      images: this.count === this.labels.length ? this.images : this.images.slice(0, this.count * size),
      labels: this.count === this.labels.length ? this.labels : this.labels.slice(0, this.count),
      classNames: [...this.options.classNames],
      count: this.count,
      height: this.height,
      width: this.width,
      source: this.options.source,
    };
    if (this.skipped.length > 0) dataset.skipped = [...this.skipped];
    if (this.resized.length > 0) dataset.resized = [...this.resized];
    return dataset;
  }
}

/** One line that says what was skipped or resized, naming up to three files; empty when nothing was. */
export function describeRepairs(dataset: Pick<ImageDataset, 'skipped' | 'resized' | 'source' | 'height' | 'width'>): string[] {
  const lines: string[] = [];
  const names = (list: string[]) => list.slice(0, 3).join(', ') + (list.length > 3 ? `, … (${list.length - 3} more)` : '');
  if (dataset.skipped?.length) {
    lines.push(`${dataset.source}: skipped ${dataset.skipped.length} image(s) that do not decode: ${names(dataset.skipped.map((s) => s.file))}`);
  }
  if (dataset.resized?.length) {
    lines.push(`${dataset.source}: warning: resized ${dataset.resized.length} image(s) that were not ${dataset.width}×${dataset.height}: ${names(dataset.resized)}`);
  }
  return lines;
}
