import { geometry } from '@vitlens/vit-model';

/** The ViTConfig fields that decide the matmul work (Hugging Face names). */
export interface ShapeConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  image_size: number;
  patch_size: number;
  num_channels: number;
  numLabels: number;
}

/** Tokens per image: one per patch plus the CLS token. */
export function tokens(c: ShapeConfig): number {
  return geometry(c).tokens;
}

/** One plain 2-D matmul [m, k] × [k, n] and how often it occurs per batch. */
export interface MatmulShape {
  m: number;
  k: number;
  n: number;
  /** Occurrences per step (layers × projections). */
  count: number;
  what: string;
}

/**
 * The plain 2-D matmuls of the model's Linear layers for a batch of `batch` images: the forward
 * products, and for training also the backward ones (dX = dY·Wᵀ and dW = Xᵀ·dY with the
 * transposes made explicit, as the model's custom gradients do).
 */
export function linearShapes(c: ShapeConfig, batch: number, training: boolean): MatmulShape[] {
  const rows = batch * tokens(c);
  const d = c.hidden_size;
  const f = c.intermediate_size;
  const L = c.num_hidden_layers;
  const pp = c.num_channels * c.patch_size ** 2;
  const fwd: MatmulShape[] = [
    { m: batch * geometry(c).numPatches, k: pp, n: d, count: 1, what: 'patch projection' },
    { m: rows, k: d, n: d, count: 4 * L, what: 'Q/K/V/output' },
    { m: rows, k: d, n: f, count: L, what: 'MLP up' },
    { m: rows, k: f, n: d, count: L, what: 'MLP down' },
  ];
  if (!training) return fwd;
  const out = [...fwd];
  for (const s of fwd) {
    out.push({ m: s.m, k: s.n, n: s.k, count: s.count, what: `${s.what} dX` });
    out.push({ m: s.k, k: s.m, n: s.n, count: s.count, what: `${s.what} dW` });
  }
  return out;
}
