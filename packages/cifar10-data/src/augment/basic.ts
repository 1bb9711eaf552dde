import type { Augmentation } from '../types';
import { scratchCopy } from './scratch';

/**
 * Random crop of the original size from the image padded by `padding` pixels on each side
 * (`reflect` mirrors the border without repeating it, as torchvision's `padding_mode='reflect'`;
 * `zero` pads black).
 */
export function randomCrop(options: { padding?: number; mode?: 'reflect' | 'zero' } = {}): Augmentation {
  const padding = options.padding ?? 4;
  const mode = options.mode ?? 'reflect';
  if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`randomCrop: padding must be a non-negative integer, got ${padding}`);
  return (img, h, w, rng) => {
    if (padding === 0) return;
    if (mode === 'reflect' && (padding >= h || padding >= w)) {
      throw new RangeError(`randomCrop: reflect padding ${padding} needs an image larger than ${padding}, got ${w}×${h}`);
    }
    const dy = rng.int(2 * padding + 1) - padding;
    const dx = rng.int(2 * padding + 1) - padding;
    if (dx === 0 && dy === 0) return;
    const src = scratchCopy(img);
    for (let y = 0; y < h; y++) {
      let sy = y + dy;
      const yOutside = sy < 0 || sy >= h;
      if (yOutside) sy = sy < 0 ? -sy : 2 * (h - 1) - sy;
      for (let x = 0; x < w; x++) {
        let sx = x + dx;
        const xOutside = sx < 0 || sx >= w;
        const o = (y * w + x) * 3;
        if (mode === 'zero' && (yOutside || xOutside)) {
          img[o] = 0;
          img[o + 1] = 0;
          img[o + 2] = 0;
          continue;
        }
        if (xOutside) sx = sx < 0 ? -sx : 2 * (w - 1) - sx;
        const s = (sy * w + sx) * 3;
        img[o] = src[s]!;
        img[o + 1] = src[s + 1]!;
        img[o + 2] = src[s + 2]!;
      }
    }
  };
}

/** Mirror left–right with probability `p` (default 0.5). */
export function horizontalFlip(p = 0.5): Augmentation {
  return (img, h, w, rng) => {
    if (rng.next() >= p) return;
    for (let y = 0; y < h; y++) {
      for (let x = 0, m = w - 1; x < m; x++, m--) {
        const a = (y * w + x) * 3;
        const b = (y * w + m) * 3;
        for (let c = 0; c < 3; c++) {
          const t = img[a + c]!;
          img[a + c] = img[b + c]!;
          img[b + c] = t;
        }
      }
    }
  };
}

/**
 * Cutout (DeVries & Taylor 2017): fill a `size`×`size` square (default a quarter of the width)
 * centred at a random pixel, clipped at the border, with `fill` (default 128, mid grey).
 */
export function cutout(options: { size?: number; fill?: number; p?: number } = {}): Augmentation {
  return (img, h, w, rng) => {
    if (rng.next() >= (options.p ?? 1)) return;
    const size = options.size ?? Math.max(1, Math.round(w / 4));
    const fill = options.fill ?? 128;
    const cy = rng.int(h);
    const cx = rng.int(w);
    const y0 = Math.max(0, cy - (size >> 1));
    const y1 = Math.min(h, cy - (size >> 1) + size);
    const x0 = Math.max(0, cx - (size >> 1));
    const x1 = Math.min(w, cx - (size >> 1) + size);
    for (let y = y0; y < y1; y++) img.fill(fill, (y * w + x0) * 3, (y * w + x1) * 3);
  };
}

/** Apply augmentations in order. */
export function compose(...steps: Augmentation[]): Augmentation {
  return (img, h, w, rng) => {
    for (const step of steps) step(img, h, w, rng);
  };
}
