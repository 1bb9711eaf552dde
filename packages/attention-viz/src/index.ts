// Public API of @vitlens/attention-viz: pure functions over typed arrays (no tfjs), colormaps,
// overlays, and browser drawing helpers plus the <vit-attention-map> element (registered on demand).
export * from './types';
export { patchGrid } from './maps/grid';
export { toGrid } from './maps/reshape';
export { fuseHeads } from './maps/fuse';
export { clsAttention } from './maps/cls';
export { attentionRollout, rolloutMatrix, discardLowest, type RolloutOptions } from './maps/rollout';
export { gradientAttention, gradientRelevance } from './maps/gradient';
export { normalizeMap, percentile, NORMALIZATIONS, type Normalization, type NormalizeOptions } from './maps/normalize';
export { upsampleBilinear } from './maps/upsample';
export { attentionMap, type AttentionMapOptions } from './maps/dispatch';
export { DINO_KEEP, dinoMasks, headMaps, type DinoOptions } from './maps/heads';
export {
  COLORMAP_NAMES,
  COLORMAP_SIZE,
  checkColormap,
  colormapColor,
  colormapIndex,
  colormapTable,
  segmentLookup,
  type ColormapName,
} from './colormaps/index';
export { enlargeNearest, heatmapImage, imageChannels, overlayHeatmap, toRgba, type HeatmapOptions, type OverlayOptions } from './overlay';
export { attentionDataFromJson, attentionDataToJson, type AttentionDataJson } from './serialize';
export {
  drawAttentionOverlay,
  drawHeatmap,
  drawRgba,
  loadImagePixels,
  pixelsFromImageSource,
  type CanvasTarget,
  type DrawOptions,
} from './browser/draw';
export { defineAttentionMapElement, type AttentionMapImage, type VitAttentionMapElement } from './browser/element';
export const version = '0.1.0';
