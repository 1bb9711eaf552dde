import type { AttentionMap, HeadSelection, QuerySelection, TokenGrid } from '../types';
import { toGrid } from './reshape';
import { checkLayer, checkQuery, checkSelection, prefixTokens, tokenCount } from './validate';

/**
 * CLS attention of one layer: the CLS query's row over the patch keys, heads fused by
 * mean/max/min (or one head), as a `gridHeight × gridWidth` map. `query: 1` reads DeiT's
 * distillation token's row instead.
 *
 * @param layer Float32Array `[heads, T, T]`, post-softmax, `T = prefixTokens + gridHeight·gridWidth`.
 */
export function clsAttention(layer: Float32Array, grid: TokenGrid, selection: HeadSelection & QuerySelection = {}): AttentionMap {
  const where = 'clsAttention';
  const t = tokenCount(where, grid);
  checkLayer(where, 'layer', layer, grid, t);
  const { fusion, head } = checkSelection(where, selection, grid.heads);
  const prefix = prefixTokens(grid);
  const base = checkQuery(where, selection.query, grid) * t + prefix; // layer[h, query, prefix + p]
  const n = t - prefix;
  const row = new Float32Array(n);
  const first = head ?? 0;
  const last = head ?? grid.heads - 1;
  // only the query's row of each head matters
  for (let p = 0; p < n; p++) {
    let acc = layer[first * t * t + base + p] as number;
    for (let h = first + 1; h <= last; h++) {
      const v = layer[h * t * t + base + p] as number;
      acc = fusion === 'mean' ? acc + v : fusion === 'max' ? Math.max(acc, v) : Math.min(acc, v);
    }
    row[p] = head === undefined && fusion === 'mean' ? acc / grid.heads : acc;
  }
  return toGrid(row, grid.gridHeight, grid.gridWidth);
}
