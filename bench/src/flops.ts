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
  return (c.image_size / c.patch_size) ** 2 + 1;
}

/**
 * Multiply-add FLOPs (2 per MAC) of one image's forward pass, matmuls only: patch projection,
 * Q/K/V/output projections, QKᵀ and AV, the two MLP matmuls, the classifier. LayerNorm, GELU,
 * softmax and adds are a few percent and not counted, as is usual for ViT FLOP figures.
 */
export function forwardMatmulFlops(c: ShapeConfig): number {
  const t = tokens(c);
  const d = c.hidden_size;
  const patches = t - 1;
  const patchEmbed = 2 * patches * c.num_channels * c.patch_size ** 2 * d;
  const perLayer =
    2 * t * d * 3 * d + // Q, K, V
    2 * t * t * d + // QKᵀ over all heads
    2 * t * t * d + // attention × V
    2 * t * d * d + // output projection
    2 * 2 * t * d * c.intermediate_size; // MLP up and down
  const head = 2 * d * c.numLabels;
  return patchEmbed + c.num_hidden_layers * perLayer + head;
}

/** Training ≈ forward + backward (dX and dW, each as large as the forward): 3× forward. */
export function trainMatmulFlops(c: ShapeConfig): number {
  return 3 * forwardMatmulFlops(c);
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
    { m: batch * (tokens(c) - 1), k: pp, n: d, count: 1, what: 'patch projection' },
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
