import { type ViTConfig, geometry, numLabels } from './config';

/** Matmul FLOPs (2 per multiply-add) of one forward pass, by part. */
export interface ForwardFlops {
  patchEmbed: number;
  qkv: number;
  attentionScores: number;
  attentionValues: number;
  attentionOutput: number;
  mlp: number;
  classifier: number;
  total: number;
}

/** Matmul FLOPs of a forward pass over `batch` images, split by part (elementwise ops excluded). */
export function forwardFlopsBreakdown(config: ViTConfig, batch = 1): ForwardFlops {
  const h = config.hidden_size;
  const p = config.patch_size;
  const { numPatches: patches, tokens: t } = geometry(config); // t: + CLS (and DeiT's distillation token)
  const layers = config.num_hidden_layers;
  const parts = {
    patchEmbed: 2 * patches * config.num_channels * p * p * h,
    qkv: layers * 3 * 2 * t * h * h,
    attentionScores: layers * 2 * t * t * h, // QKᵀ over all heads: heads · T² · headDim
    attentionValues: layers * 2 * t * t * h, // AV
    attentionOutput: layers * 2 * t * h * h,
    mlp: layers * 2 * 2 * t * h * config.intermediate_size,
    classifier: 2 * h * numLabels(config),
  };
  const scaled = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v * batch])) as Omit<ForwardFlops, 'total'>;
  const total = Object.values(scaled).reduce((a, b) => a + b, 0);
  return { ...scaled, total };
}

/** Total matmul FLOPs of a forward pass over `batch` images (e.g. 0.73e9 per image for vit-tiny-patch4-32). */
export function countForwardFlops(config: ViTConfig, batch = 1): number {
  return forwardFlopsBreakdown(config, batch).total;
}
