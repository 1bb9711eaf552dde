import type { AttentionMap } from '../types';
import { checkMap } from './validate';

/**
 * Bilinear resize to `height × width` with half-pixel centres (align_corners = false, as PIL, OpenCV
 * and torch's `interpolate` do), edges clamped. Each patch value sits at its patch's centre.
 */
export function upsampleBilinear(map: AttentionMap, height: number, width: number): AttentionMap {
  checkMap('upsampleBilinear', map);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new Error(`upsampleBilinear: target size must be positive integers, got ${height}×${width}`);
  }
  const out = new Float32Array(height * width);
  const sy = map.height / height;
  const sx = map.width / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), map.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, map.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), map.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, map.width - 1);
      const wx = fx - x0;
      const top = (map.data[y0 * map.width + x0] as number) * (1 - wx) + (map.data[y0 * map.width + x1] as number) * wx;
      const bottom = (map.data[y1 * map.width + x0] as number) * (1 - wx) + (map.data[y1 * map.width + x1] as number) * wx;
      out[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return { data: out, height, width };
}
