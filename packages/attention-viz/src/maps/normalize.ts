import type { AttentionMap } from '../types';
import { checkMap } from './validate';

export type Normalization = 'minmax' | 'percentile' | 'none';
export const NORMALIZATIONS: readonly Normalization[] = ['minmax', 'percentile', 'none'];

export interface NormalizeOptions {
  /** 'minmax' (default): (v − min) / (max − min); 'percentile': the same between two percentiles, clipped; 'none': clip to [0, 1]. */
  method?: Normalization;
  /** Lower percentile for 'percentile' (default 1). */
  low?: number;
  /** Upper percentile for 'percentile' (default 99). */
  high?: number;
}

/** The q-th percentile (0..100) with linear interpolation between order statistics (numpy's default). */
export function percentile(values: Float32Array, q: number): number {
  if (values.length === 0) throw new Error('percentile: no values');
  const sorted = Float64Array.from(values).sort();
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + (pos - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

/**
 * Scale a map to [0, 1]. A constant map (no contrast) becomes all zeros.
 */
export function normalizeMap(map: AttentionMap, options: NormalizeOptions = {}): AttentionMap {
  checkMap('normalizeMap', map);
  const method = options.method ?? 'minmax';
  const out = new Float32Array(map.data.length);
  let lo: number;
  let hi: number;
  if (method === 'none') {
    lo = 0;
    hi = 1;
  } else if (method === 'minmax') {
    lo = Number.POSITIVE_INFINITY;
    hi = Number.NEGATIVE_INFINITY;
    for (const v of map.data) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  } else if (method === 'percentile') {
    const low = options.low ?? 1;
    const high = options.high ?? 99;
    if (!(low >= 0 && high <= 100 && low < high)) {
      throw new Error(`normalizeMap: percentiles must satisfy 0 ≤ low < high ≤ 100, got low ${low}, high ${high}`);
    }
    lo = percentile(map.data, low);
    hi = percentile(map.data, high);
  } else {
    throw new Error(`normalizeMap: method must be one of ${NORMALIZATIONS.join(', ')}, got '${String(method)}'`);
  }
  for (const v of map.data) {
    if (!Number.isFinite(v)) throw new Error(`normalizeMap: map holds a non-finite value (${v})`);
  }
  const range = hi - lo;
  if (range > 0) {
    for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, ((map.data[i] as number) - lo) / range));
  }
  return { data: out, height: map.height, width: map.width };
}
