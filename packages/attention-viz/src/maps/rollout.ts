import type { AttentionMap, HeadFusion, TokenGrid } from '../types';
import { fuseHeads } from './fuse';
import { identity, matmul, patchRow } from './matrix';
import { toGrid } from './reshape';
import { checkLayer, checkQuery, checkSelection, prefixTokens, tokenCount } from './validate';

export interface RolloutOptions {
  /** The token whose row is read: 0 = CLS (default), 1 = DeiT's distillation token. */
  query?: number;
  /** Head fusion before the product (default 'mean'). */
  fusion?: HeadFusion;
  /** Use this head alone in every layer instead of fusing. */
  head?: number;
  /**
   * vit-explain's `discard_ratio` in [0, 1): per layer, the `floor(T²·ratio)` lowest entries of the
   * fused `[T, T]` matrix are set to 0 — except entry [CLS, CLS] (flat index 0), which is never
   * dropped — before the identity is added. Ties go to the lower flat index. Default 0.
   */
  discardRatio?: number;
}

/**
 * Drop the `floor(T²·ratio)` smallest entries of `m` (in place), never flat index 0 ([CLS, CLS]).
 * As in vit-explain, index 0 counts towards the k even when it is kept.
 */
export function discardLowest(m: Float64Array, ratio: number): void {
  const k = Math.floor(m.length * ratio);
  if (k <= 0) return;
  const order = Array.from({ length: m.length }, (_, i) => i);
  order.sort((a, b) => (m[a] as number) - (m[b] as number) || a - b);
  for (let r = 0; r < k; r++) {
    const idx = order[r] as number;
    if (idx !== 0) m[idx] = 0;
  }
}

/**
 * The rollout matrix `R = Â_L ··· Â_1`, `[T, T]` row-major, with `Â = 0.5·A + 0.5·I` and rows
 * renormalised to sum 1 (A fused over heads, lowest entries discarded first).
 */
export function rolloutMatrix(layers: readonly Float32Array[], grid: TokenGrid, options: RolloutOptions = {}): Float64Array {
  const where = 'attentionRollout';
  const t = tokenCount(where, grid);
  if (layers.length === 0) throw new Error(`${where}: layers is empty; expected one [heads, T, T] Float32Array per layer`);
  const { fusion, head } = checkSelection(where, options, grid.heads);
  const ratio = options.discardRatio ?? 0;
  if (!(ratio >= 0 && ratio < 1)) throw new Error(`${where}: discardRatio must be in [0, 1), got ${String(ratio)}`);
  let result = identity(t);
  layers.forEach((layer, l) => {
    checkLayer(where, `layers[${l}]`, layer, grid, t);
    const a = fuseHeads(layer, grid.heads, t, fusion, head); // [T, T]
    discardLowest(a, ratio);
    for (let i = 0; i < t; i++) {
      const row = i * t;
      a[row + i] = (a[row + i] as number) + 1; // (A + I) / 2; the /2 cancels in the row normalisation
      let sum = 0;
      for (let j = 0; j < t; j++) sum += a[row + j] as number;
      for (let j = 0; j < t; j++) a[row + j] = (a[row + j] as number) / sum;
    }
    result = matmul(a, result, t); // later layers multiply on the left
  });
  return result;
}

/**
 * Attention rollout (Abnar & Zuidema 2020) as a `gridHeight × gridWidth` map: `R[CLS, patches]`
 * (`R[query, patches]`; the special tokens' columns are left out).
 *
 * Unlike vit-explain (whose `a / a.sum(dim=-1)` broadcasts over columns), rows are renormalised,
 * as the paper specifies.
 */
export function attentionRollout(layers: readonly Float32Array[], grid: TokenGrid, options: RolloutOptions = {}): AttentionMap {
  const t = tokenCount('attentionRollout', grid);
  const query = checkQuery('attentionRollout', options.query, grid);
  return toGrid(patchRow(rolloutMatrix(layers, grid, options), t, query, prefixTokens(grid)), grid.gridHeight, grid.gridWidth);
}
