import type { AttentionMap, HeadSelection, TokenGrid } from '../types';
import { toGrid } from './reshape';
import { checkLayer, checkSelection, tokenCount } from './validate';

/**
 * CLS attention of one layer: the CLS query's row over the patch keys, heads fused by
 * mean/max/min (or one head), as a `gridHeight × gridWidth` map.
 *
 * @param layer Float32Array `[heads, T, T]`, post-softmax, `T = 1 + gridHeight·gridWidth`.
 */
export function clsAttention(layer: Float32Array, grid: TokenGrid, selection: HeadSelection = {}): AttentionMap {
  const where = 'clsAttention';
  const t = tokenCount(where, grid);
  checkLayer(where, 'layer', layer, grid, t);
  const { fusion, head } = checkSelection(where, selection, grid.heads);
  const n = t - 1;
  const row = new Float32Array(n);
  const first = head ?? 0;
  const last = head ?? grid.heads - 1;
  // only row 0 (the CLS query) of each head matters: layer[h, 0, 1 + p]
  for (let p = 0; p < n; p++) {
    let acc = layer[first * t * t + 1 + p] as number;
    for (let h = first + 1; h <= last; h++) {
      const v = layer[h * t * t + 1 + p] as number;
      acc = fusion === 'mean' ? acc + v : fusion === 'max' ? Math.max(acc, v) : Math.min(acc, v);
    }
    row[p] = head === undefined && fusion === 'mean' ? acc / grid.heads : acc;
  }
  return toGrid(row, grid.gridHeight, grid.gridWidth);
}
