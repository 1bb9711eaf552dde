// Pixel-value operations with PIL's semantics (ImageEnhance / ImageOps), on uint8 HWC RGB.
import { clampByte, scratchCopy } from './scratch';

function luma(r: number, g: number, b: number): number {
  // ITU-R 601-2, as PIL's convert('L')
  return (r * 299 + g * 587 + b * 114) / 1000;
}

/** factor 0 → black, 1 → unchanged. */
export function brightness(img: Uint8Array, factor: number): void {
  for (let i = 0; i < img.length; i++) img[i] = clampByte(img[i]! * factor);
}

/** factor 0 → uniform grey at the mean luminance, 1 → unchanged. */
export function contrast(img: Uint8Array, factor: number): void {
  let sum = 0;
  for (let i = 0; i < img.length; i += 3) sum += luma(img[i]!, img[i + 1]!, img[i + 2]!);
  const mean = Math.round(sum / (img.length / 3));
  for (let i = 0; i < img.length; i++) img[i] = clampByte(mean + factor * (img[i]! - mean));
}

/** Saturation: factor 0 → greyscale, 1 → unchanged. */
export function color(img: Uint8Array, factor: number): void {
  for (let i = 0; i < img.length; i += 3) {
    const l = luma(img[i]!, img[i + 1]!, img[i + 2]!);
    for (let c = 0; c < 3; c++) img[i + c] = clampByte(l + factor * (img[i + c]! - l));
  }
}

/** factor 0 → smoothed (PIL's SMOOTH 3×3 kernel), 1 → unchanged, 2 → sharpened. Border pixels stay. */
export function sharpness(img: Uint8Array, h: number, w: number, factor: number): void {
  const src = scratchCopy(img);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 4 * src[(y * w + x) * 3 + c]!; // centre weight 5, plus the 9 ones below
        for (let ky = -1; ky <= 1; ky++) for (let kx = -1; kx <= 1; kx++) acc += src[((y + ky) * w + x + kx) * 3 + c]!;
        const smooth = acc / 13;
        const o = (y * w + x) * 3 + c;
        img[o] = clampByte(smooth + factor * (src[o]! - smooth));
      }
    }
  }
}

/** Keep the top `bits` bits of every value (1..8). */
export function posterize(img: Uint8Array, bits: number): void {
  const mask = (0xff << (8 - Math.max(1, Math.min(8, bits)))) & 0xff;
  for (let i = 0; i < img.length; i++) img[i] = img[i]! & mask;
}

/** Invert every value at or above `threshold`. */
export function solarize(img: Uint8Array, threshold: number): void {
  for (let i = 0; i < img.length; i++) if (img[i]! >= threshold) img[i] = 255 - img[i]!;
}

/** Stretch each channel to the full 0..255 range. */
export function autocontrast(img: Uint8Array): void {
  for (let c = 0; c < 3; c++) {
    let lo = 255;
    let hi = 0;
    for (let i = c; i < img.length; i += 3) {
      const v = img[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi <= lo) continue;
    const scale = 255 / (hi - lo);
    for (let i = c; i < img.length; i += 3) img[i] = clampByte((img[i]! - lo) * scale);
  }
}

/** Per-channel histogram equalisation (PIL's ImageOps.equalize). */
export function equalize(img: Uint8Array): void {
  const hist = new Uint32Array(256);
  for (let c = 0; c < 3; c++) {
    hist.fill(0);
    for (let i = c; i < img.length; i += 3) hist[img[i]!]!++;
    let last = 255;
    while (last > 0 && hist[last] === 0) last--;
    const n = img.length / 3;
    const step = Math.floor((n - hist[last]!) / 255);
    if (step === 0) continue;
    const lut = new Uint8Array(256);
    let acc = Math.floor(step / 2);
    for (let v = 0; v < 256; v++) {
      lut[v] = Math.min(255, Math.floor(acc / step));
      acc += hist[v]!;
    }
    for (let i = c; i < img.length; i += 3) img[i] = lut[img[i]!]!;
  }
}
