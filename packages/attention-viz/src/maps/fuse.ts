import type { HeadFusion } from '../types';

/**
 * Combine the heads of one layer: `[heads, T, T]` → `[T, T]` (Float64 for the products that follow).
 * With `head` set, that head alone.
 */
export function fuseHeads(values: Float32Array, heads: number, t: number, fusion: HeadFusion, head?: number): Float64Array {
  const tt = t * t;
  const out = new Float64Array(tt);
  if (head !== undefined) {
    const base = head * tt;
    for (let i = 0; i < tt; i++) out[i] = values[base + i] as number;
    return out;
  }
  for (let i = 0; i < tt; i++) out[i] = values[i] as number;
  for (let h = 1; h < heads; h++) {
    const base = h * tt;
    for (let i = 0; i < tt; i++) {
      const v = values[base + i] as number;
      const o = out[i] as number;
      out[i] = fusion === 'mean' ? o + v : fusion === 'max' ? (v > o ? v : o) : v < o ? v : o;
    }
  }
  if (fusion === 'mean') for (let i = 0; i < tt; i++) out[i] = (out[i] as number) / heads;
  return out;
}
