import type { Rng } from '@vitlens/core';

/** Gamma(shape, 1) deviate (Marsaglia & Tsang 2000). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) {
    // Gamma(a) = Gamma(a + 1) · U^(1/a)
    let u = 0;
    while (u === 0) u = rng.next();
    return sampleGamma(rng, shape + 1) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(α, α) deviate. */
export function sampleBeta(rng: Rng, alpha: number): number {
  const x = sampleGamma(rng, alpha);
  const y = sampleGamma(rng, alpha);
  return x / (x + y);
}

/**
 * Mixup or CutMix in place on a uint8 batch `[B, h, w, 3]`: row i is combined with row `perm[i]`
 * (a random permutation). Returns row-major soft targets `[B, numClasses]` whose weights equal
 * the share of each source in the mixed pixels (for CutMix: the pasted box's exact area).
 * With both alphas > 0, each batch uses one of the two with equal probability (as timm does).
 * Mixup blends uint8 pixels, which differs from blending floats by at most half a grey level.
 */
export function mixBatch(
  pixels: Uint8Array,
  labels: Int32Array,
  shape: { batch: number; height: number; width: number },
  numClasses: number,
  opts: { mixup?: number; cutmix?: number },
  rng: Rng,
): Float32Array {
  const { batch, height: h, width: w } = shape;
  const mixup = opts.mixup ?? 0;
  const cutmix = opts.cutmix ?? 0;
  const useCutmix = cutmix > 0 && (mixup <= 0 || rng.next() < 0.5);
  const alpha = useCutmix ? cutmix : mixup;
  let lam = sampleBeta(rng, alpha);
  const perm = rng.permutation(batch);
  const size = h * w * 3;
  const source = pixels.slice(); // rows are read from the unmixed batch
  if (useCutmix) {
    // Box with area (1 - λ)·h·w at a random centre, clipped; λ is then the exact kept share.
    const cutH = Math.round(h * Math.sqrt(1 - lam));
    const cutW = Math.round(w * Math.sqrt(1 - lam));
    const cy = rng.int(h);
    const cx = rng.int(w);
    const y0 = Math.max(0, cy - (cutH >> 1));
    const y1 = Math.min(h, cy - (cutH >> 1) + cutH);
    const x0 = Math.max(0, cx - (cutW >> 1));
    const x1 = Math.min(w, cx - (cutW >> 1) + cutW);
    for (let i = 0; i < batch; i++) {
      const dst = i * size;
      const src = perm[i]! * size;
      for (let y = y0; y < y1; y++) {
        pixels.set(source.subarray(src + (y * w + x0) * 3, src + (y * w + x1) * 3), dst + (y * w + x0) * 3);
      }
    }
    lam = 1 - (Math.max(0, y1 - y0) * Math.max(0, x1 - x0)) / (h * w);
  } else {
    for (let i = 0; i < batch; i++) {
      const dst = i * size;
      const src = perm[i]! * size;
      for (let k = 0; k < size; k++) pixels[dst + k] = Math.round(lam * source[dst + k]! + (1 - lam) * source[src + k]!);
    }
  }
  const targets = new Float32Array(batch * numClasses);
  for (let i = 0; i < batch; i++) {
    targets[i * numClasses + labels[i]!]! += lam;
    targets[i * numClasses + labels[perm[i]!]!]! += 1 - lam;
  }
  return targets;
}
