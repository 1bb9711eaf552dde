/**
 * Bilinear resize of one uint8 HWC image (3 channels) with half-pixel centres, as
 * `tf.image.resizeBilinear(x, size, false, true)` does. Returns a new `[outH, outW, 3]` array.
 */
export function resizeBilinearU8(src: Uint8Array, height: number, width: number, outHeight: number, outWidth: number): Uint8Array {
  const out = new Uint8Array(outHeight * outWidth * 3);
  if (height === outHeight && width === outWidth) {
    out.set(src.subarray(0, out.length));
    return out;
  }
  const sy = height / outHeight;
  const sx = width / outWidth;
  for (let y = 0; y < outHeight; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(height - 1, Math.floor(fy));
    const y1 = Math.min(height - 1, y0 + 1);
    const dy = fy - y0;
    for (let x = 0; x < outWidth; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(width - 1, Math.floor(fx));
      const x1 = Math.min(width - 1, x0 + 1);
      const dx = fx - x0;
      const o = (y * outWidth + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = src[(y0 * width + x0) * 3 + c]! * (1 - dx) + src[(y0 * width + x1) * 3 + c]! * dx;
        const bottom = src[(y1 * width + x0) * 3 + c]! * (1 - dx) + src[(y1 * width + x1) * 3 + c]! * dx;
        out[o + c] = Math.round(top * (1 - dy) + bottom * dy);
      }
    }
  }
  return out;
}

/**
 * Shrink one uint8 HWC image (3 channels) so that its longer side is at most `maxSide`, keeping
 * the aspect ratio, by area averaging (each output pixel is the mean of the input pixels it
 * covers, so nothing aliases). Images already small enough come back as they are.
 */
export function shrinkToFitU8(src: Uint8Array, height: number, width: number, maxSide: number): { data: Uint8Array; height: number; width: number } {
  if (Math.max(height, width) <= maxSide) return { data: src, height, width };
  const scale = maxSide / Math.max(height, width);
  const outH = Math.max(1, Math.round(height * scale));
  const outW = Math.max(1, Math.round(width * scale));
  // Per output column: the input columns it covers and their weights (fractional at the edges).
  const sx = width / outW;
  const sy = height / outH;
  const acc = new Float64Array(outW * 3);
  const out = new Uint8Array(outH * outW * 3);
  for (let oy = 0; oy < outH; oy++) {
    acc.fill(0);
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let y = Math.floor(y0); y < Math.min(height, Math.ceil(y1)); y++) {
      const wy = Math.min(y + 1, y1) - Math.max(y, y0);
      const row = y * width * 3;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * sx;
        const x1 = x0 + sx;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let x = Math.floor(x0); x < Math.min(width, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          const i = row + x * 3;
          r += src[i]! * wx;
          g += src[i + 1]! * wx;
          b += src[i + 2]! * wx;
        }
        acc[ox * 3] = acc[ox * 3]! + r * wy;
        acc[ox * 3 + 1] = acc[ox * 3 + 1]! + g * wy;
        acc[ox * 3 + 2] = acc[ox * 3 + 2]! + b * wy;
      }
    }
    const area = sx * sy;
    for (let k = 0; k < outW * 3; k++) out[oy * outW * 3 + k] = Math.round(acc[k]! / area);
  }
  return { data: out, height: outH, width: outW };
}
