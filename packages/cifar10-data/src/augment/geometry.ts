import { scratchCopy } from './scratch';

/**
 * Inverse-map affine warp about the image centre with bilinear sampling: output pixel (x, y)
 * reads the source at `[a b; c d] · (x - cx, y - cy) + (cx + tx, cy + ty)`. Pixels that fall
 * outside take `fill`.
 */
export function affine(img: Uint8Array, h: number, w: number, m: { a: number; b: number; c: number; d: number; tx: number; ty: number }, fill = 128): void {
  const src = scratchCopy(img);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x - cx;
      const v = y - cy;
      const sx = m.a * u + m.b * v + cx + m.tx;
      const sy = m.c * u + m.d * v + cy + m.ty;
      const o = (y * w + x) * 3;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let ch = 0; ch < 3; ch++) {
        const p00 = sample(src, h, w, x0, y0, ch, fill);
        const p10 = sample(src, h, w, x0 + 1, y0, ch, fill);
        const p01 = sample(src, h, w, x0, y0 + 1, ch, fill);
        const p11 = sample(src, h, w, x0 + 1, y0 + 1, ch, fill);
        const top = p00 + (p10 - p00) * fx;
        const bottom = p01 + (p11 - p01) * fx;
        img[o + ch] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
}

function sample(src: Uint8Array, h: number, w: number, x: number, y: number, ch: number, fill: number): number {
  return x < 0 || y < 0 || x >= w || y >= h ? fill : src[(y * w + x) * 3 + ch]!;
}

/** Rotate counter-clockwise by `degrees` about the centre. */
export function rotate(img: Uint8Array, h: number, w: number, degrees: number, fill = 128): void {
  const t = (degrees * Math.PI) / 180;
  // inverse of a counter-clockwise rotation (image y points down)
  affine(img, h, w, { a: Math.cos(t), b: -Math.sin(t), c: Math.sin(t), d: Math.cos(t), tx: 0, ty: 0 }, fill);
}

/** Shear along x: the source x is `x + factor · y` (about the centre). */
export function shearX(img: Uint8Array, h: number, w: number, factor: number, fill = 128): void {
  affine(img, h, w, { a: 1, b: factor, c: 0, d: 1, tx: 0, ty: 0 }, fill);
}

export function shearY(img: Uint8Array, h: number, w: number, factor: number, fill = 128): void {
  affine(img, h, w, { a: 1, b: 0, c: factor, d: 1, tx: 0, ty: 0 }, fill);
}

/** Move the content by (dx, dy) pixels (may be fractional). */
export function translate(img: Uint8Array, h: number, w: number, dx: number, dy: number, fill = 128): void {
  affine(img, h, w, { a: 1, b: 0, c: 0, d: 1, tx: -dx, ty: -dy }, fill);
}
