import type { AttentionData, AttentionMap, HeadFusion, MapMethod } from '../types';
import { MAP_METHODS } from '../types';
import { clsAttention } from './cls';
import { gradientAttention } from './gradient';
import { attentionRollout } from './rollout';

export interface AttentionMapOptions {
  /** 'cls' (one layer), 'rollout' (all layers) or 'gradient' (all layers, needs `data.gradients`). Default 'cls'. */
  method?: MapMethod;
  /** Layer for 'cls'; negative counts from the end (default −1, the last layer). */
  layer?: number;
  /** Head fusion for 'cls' and 'rollout' (default 'mean'). */
  fusion?: HeadFusion;
  /** One head alone for 'cls' and 'rollout'. */
  head?: number;
  /** vit-explain's discard ratio for 'rollout' (default 0). */
  discardRatio?: number;
  /** The token whose row every method reads: 0 = CLS (default), 1 = DeiT's distillation token. */
  query?: number;
}

/** One map from one image's attention data, by method: the single entry point the element and the CLI use. */
export function attentionMap(data: AttentionData, options: AttentionMapOptions = {}): AttentionMap {
  const method = options.method ?? 'cls';
  const grid = {
    heads: data.heads,
    gridHeight: data.gridHeight,
    gridWidth: data.gridWidth,
    ...(data.prefixTokens !== undefined ? { prefixTokens: data.prefixTokens } : {}),
  };
  const query = options.query !== undefined ? { query: options.query } : {};
  const selection = {
    ...(options.fusion !== undefined ? { fusion: options.fusion } : {}),
    ...(options.head !== undefined ? { head: options.head } : {}),
    ...query,
  };
  if (!Array.isArray(data.layers) || data.layers.length === 0) {
    throw new Error('attentionMap: data.layers must hold one [heads, T, T] Float32Array per layer');
  }
  switch (method) {
    case 'cls': {
      const n = data.layers.length;
      const requested = options.layer ?? -1;
      const layer = requested < 0 ? n + requested : requested;
      if (!Number.isInteger(requested) || layer < 0 || layer >= n) {
        throw new Error(`attentionMap: layer must be an integer in ${-n}..${n - 1}, got ${String(requested)}`);
      }
      return clsAttention(data.layers[layer] as Float32Array, grid, selection);
    }
    case 'rollout':
      return attentionRollout(data.layers, grid, {
        ...selection,
        ...(options.discardRatio !== undefined ? { discardRatio: options.discardRatio } : {}),
      });
    case 'gradient':
      if (!data.gradients) throw new Error("attentionMap: method 'gradient' needs data.gradients (one [heads, T, T] per layer)");
      return gradientAttention(data.layers, data.gradients, grid, query);
    default:
      throw new Error(`attentionMap: method must be one of ${MAP_METHODS.join(', ')}, got '${String(method)}'`);
  }
}
