import type { AttentionMap, QuerySelection, TokenGrid } from '../types';
import { identity, matmul, patchRow } from './matrix';
import { toGrid } from './reshape';
import { checkLayer, checkQuery, prefixTokens, tokenCount } from './validate';

/**
 * The relevance matrix of Chefer et al. 2021 ("Generic attention-model explainability", eq. 5-6),
 * `[T, T]`: `R = I`; for each layer in forward order `Ā = mean_h((∇A ⊙ A)⁺)`, `R ← R + Ā·R`.
 */
export function gradientRelevance(layers: readonly Float32Array[], gradients: readonly Float32Array[], grid: TokenGrid): Float64Array {
  const where = 'gradientAttention';
  const t = tokenCount(where, grid);
  if (layers.length === 0) throw new Error(`${where}: layers is empty; expected one [heads, T, T] Float32Array per layer`);
  if (gradients.length !== layers.length) {
    throw new Error(`${where}: gradients has ${gradients.length} layers, attention has ${layers.length}; expected one gradient per layer`);
  }
  const tt = t * t;
  let r = identity(t);
  for (let l = 0; l < layers.length; l++) {
    const a = checkLayer(where, `layers[${l}]`, layers[l], grid, t);
    const g = checkLayer(where, `gradients[${l}]`, gradients[l], grid, t);
    const cam = new Float64Array(tt); // Ā, [T, T]
    for (let h = 0; h < grid.heads; h++) {
      const base = h * tt;
      for (let i = 0; i < tt; i++) {
        const v = (a[base + i] as number) * (g[base + i] as number);
        if (v > 0) cam[i] = (cam[i] as number) + v; // clamp per head, then average
      }
    }
    for (let i = 0; i < tt; i++) cam[i] = (cam[i] as number) / grid.heads;
    const update = matmul(cam, r, t);
    for (let i = 0; i < tt; i++) update[i] = (update[i] as number) + (r[i] as number);
    r = update;
  }
  return r;
}

/**
 * Gradient-weighted attention (Chefer et al. 2021) as a `gridHeight × gridWidth` map: `R[CLS, patches]`
 * (`R[query, patches]`; the special tokens' columns are left out).
 */
export function gradientAttention(
  layers: readonly Float32Array[],
  gradients: readonly Float32Array[],
  grid: TokenGrid,
  selection: QuerySelection = {},
): AttentionMap {
  const t = tokenCount('gradientAttention', grid);
  const query = checkQuery('gradientAttention', selection.query, grid);
  return toGrid(patchRow(gradientRelevance(layers, gradients, grid), t, query, prefixTokens(grid)), grid.gridHeight, grid.gridWidth);
}
