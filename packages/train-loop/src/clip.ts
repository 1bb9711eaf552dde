import { tf } from '@vitlens/core';

/**
 * Scale `grads` in place (the map's tensors are replaced and the old ones disposed) so that their
 * global L2 norm is at most `maxNorm`, as `torch.nn.utils.clip_grad_norm_`:
 * `coef = maxNorm / (norm + 1e-6)`, applied only when `coef < 1`. Returns the norm before clipping.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) throw new RangeError(`clipByGlobalNorm: maxNorm must be a positive number, got ${maxNorm}`);
  const norm = globalNorm(grads);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const [name, g] of grads) {
      grads.set(name, tf.tidy(() => tf.mul(g, coef)));
      g.dispose();
    }
  }
  return norm;
}

/** `sqrt(Σ ‖g‖²)` over every tensor of the map, computed one tensor at a time. */
export function globalNorm(grads: Map<string, tf.Tensor>): number {
  let sumSquares = 0;
  for (const g of grads.values()) {
    const s = tf.tidy(() => tf.sum(tf.square(g)));
    sumSquares += s.dataSync()[0]!;
    s.dispose();
  }
  return Math.sqrt(sumSquares);
}
