import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '@vitlens/core';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { CIFAR_PIXELS, encodeCifarBatch } from '../src/binary';

const created: string[] = [];

/** A fresh temporary folder, removed by `cleanupTempDirs()`. */
export async function tempDir(label: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `vitlens-data-${label}-`));
  created.push(dir);
  return dir;
}

export async function cleanupTempDirs(): Promise<void> {
  for (const dir of created.splice(0)) await fs.rm(dir, { recursive: true, force: true });
}

/** `count` random 32×32 images and labels cycling 0..numClasses-1. */
export function syntheticImages(count: number, seed: string, numClasses = 10): { images: Uint8Array; labels: Uint8Array } {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * CIFAR_PIXELS);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % numClasses);
  return { images, labels };
}

export function syntheticBatchFile(count: number, seed: string): { bytes: Uint8Array; images: Uint8Array; labels: Uint8Array } {
  const { images, labels } = syntheticImages(count, seed);
  return { bytes: encodeCifarBatch(images, labels), images, labels };
}

/** A smooth RGB image (so JPEG keeps it close), `[h, w, 3]`. */
export function gradientImage(h: number, w: number, shift = 0): Uint8Array {
  const out = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      out[o] = (x * 255) / Math.max(1, w - 1);
      out[o + 1] = (y * 255) / Math.max(1, h - 1);
      out[o + 2] = (shift * 37) % 256;
    }
  }
  return out;
}

export function encodeJpeg(rgb: Uint8Array, h: number, w: number, quality = 95): Uint8Array {
  const rgba = new Uint8Array(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    rgba[p * 4] = rgb[p * 3]!;
    rgba[p * 4 + 1] = rgb[p * 3 + 1]!;
    rgba[p * 4 + 2] = rgb[p * 3 + 2]!;
    rgba[p * 4 + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width: w, height: h }, quality).data);
}

export function encodePng(rgb: Uint8Array, h: number, w: number): Uint8Array {
  const png = new PNG({ width: w, height: h });
  for (let p = 0; p < h * w; p++) {
    png.data[p * 4] = rgb[p * 3]!;
    png.data[p * 4 + 1] = rgb[p * 3 + 1]!;
    png.data[p * 4 + 2] = rgb[p * 3 + 2]!;
    png.data[p * 4 + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}

export async function writeFiles(root: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [rel, data] of Object.entries(files)) {
    const full = path.join(root, rel);
    await fs.mkdir(path.dirname(full), { recursive: true });
    await fs.writeFile(full, data);
  }
}
