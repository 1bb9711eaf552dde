import type { AttentionMap, QuerySelection, TokenGrid } from '../types';
import { clsAttention } from './cls';
import { toGrid } from './reshape';
import { checkLayer, checkQuery, prefixTokens, tokenCount } from './validate';

/** The share of attention mass DINO's figures keep per head (Caron et al. 2021, Fig. 3 and visualize_attention.py). */
export const DINO_KEEP = 0.6;

/** One layer's CLS attention, one map per head (no fusion): what a heads grid shows. */
export function headMaps(layer: Float32Array, grid: TokenGrid, selection: QuerySelection = {}): AttentionMap[] {
  return Array.from({ length: grid.heads }, (_, head) => clsAttention(layer, grid, { ...selection, head }));
}

export interface DinoOptions extends QuerySelection {
  /** Share of each head's attention mass to keep, in (0, 1] (default 0.6, as the DINO paper). */
  keep?: number;
}

/**
 * DINO's view of one layer (use the last): per head, the query's attention over the patches,
 * thresholded to the smallest set of patches holding `keep` of its mass, as a 0/1 map — the masks of
 * facebookresearch/dino `visualize_attention.py --threshold`: sort ascending, normalise, cumulative sum,
 * keep where it exceeds 1 − keep. Ties sort by patch index.
 */
export function dinoMasks(layer: Float32Array, grid: TokenGrid, options: DinoOptions = {}): AttentionMap[] {
  const where = 'dinoMasks';
  const t = tokenCount(where, grid);
  checkLayer(where, 'layer', layer, grid, t);
  const keep = options.keep ?? DINO_KEEP;
  if (!(keep > 0 && keep <= 1)) throw new Error(`${where}: keep must be a share in (0, 1], got ${String(keep)}`);
  const prefix = prefixTokens(grid);
  const query = checkQuery(where, options.query, grid);
  const n = t - prefix;
  return Array.from({ length: grid.heads }, (_, h) => {
    const base = h * t * t + query * t + prefix; // layer[h, query, prefix + p]
    const values = Float64Array.from({ length: n }, (_, p) => layer[base + p] as number);
    let total = 0;
    for (const v of values) total += v;
    const order = Array.from({ length: n }, (_, p) => p).sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
    const mask = new Float32Array(n);
    let cumulative = 0;
    for (const p of order) {
      cumulative += (values[p] as number) / total;
      if (cumulative > 1 - keep) mask[p] = 1;
    }
    return toGrid(mask, grid.gridHeight, grid.gridWidth);
  });
}
