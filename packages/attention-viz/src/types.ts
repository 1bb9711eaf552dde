/** How the heads of one layer are combined into one `[T, T]` matrix. */
export type HeadFusion = 'mean' | 'max' | 'min';
export const HEAD_FUSIONS: readonly HeadFusion[] = ['mean', 'max', 'min'];

/** Which map to compute. */
export type MapMethod = 'cls' | 'rollout' | 'gradient';
export const MAP_METHODS: readonly MapMethod[] = ['cls', 'rollout', 'gradient'];

/**
 * The token layout of one image's attention. Tokens are `[CLS, patch 0, …, patch N-1]` with the
 * patches in row-major order over a `gridHeight × gridWidth` grid, so `T = 1 + gridHeight·gridWidth`;
 * DeiT puts its distillation token after CLS (`prefixTokens: 2`, `T = 2 + gridHeight·gridWidth`).
 */
export interface TokenGrid {
  /** Attention heads per layer. */
  heads: number;
  /** Patch rows (image height / patch size). */
  gridHeight: number;
  /** Patch columns (image width / patch size). */
  gridWidth: number;
  /** Special tokens before the patches: 1 (CLS, the default) or 2 (DeiT: CLS, distillation). */
  prefixTokens?: number;
}

/** Which token's attention row a map reads: 0 = CLS (default), 1 = DeiT's distillation token. */
export interface QuerySelection {
  query?: number;
}

/** A 2-D map, row-major `[height, width]`. */
export interface AttentionMap {
  data: Float32Array;
  height: number;
  width: number;
}

/** Combine heads by `fusion`, or take one `head` alone (which wins when both are given). */
export interface HeadSelection {
  fusion?: HeadFusion;
  head?: number;
}

/**
 * Everything the maps need for one image: per layer a Float32Array `[heads, T, T]` of post-softmax
 * attention (row = query, column = key) and, for the gradient method, the gradient of the chosen
 * class logit with respect to it, same layout.
 */
export interface AttentionData extends TokenGrid {
  layers: readonly Float32Array[];
  gradients?: readonly Float32Array[];
}

/** An 8-bit image, row-major, RGB (3 channels) or RGBA (4). */
export interface PixelImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** 3 or 4; inferred from `data.length` when omitted. */
  channels?: 3 | 4;
}

/** An 8-bit RGBA image, row-major (the layout of canvas `ImageData`). */
export interface RgbaImage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}
