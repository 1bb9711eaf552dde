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
