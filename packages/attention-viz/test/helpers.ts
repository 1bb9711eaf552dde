/** Test helpers: build `[heads, T, T]` attention from per-head row lists. */
export function layerFrom(headsRows: number[][][]): Float32Array {
  return Float32Array.from(headsRows.flat(2));
}

/** Deterministic pseudo-random numbers (mulberry32) for synthetic attention. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest value. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/**
 * Real softmax attention of a toy transformer whose CLS query is aligned with the key of one patch:
 * per layer and head, tokens get random keys, the CLS query = `strength`·key(target) + noise.
 * Returns `[heads, T, T]` per layer (rows = queries, softmax over keys).
 */
export function attentionLookingAt(target: number, opts: { heads: number; t: number; layers: number; dim?: number; seed?: number; strength?: number }): Float32Array[] {
  const { heads, t, layers } = opts;
  const dim = opts.dim ?? 8;
  const rand = seeded(opts.seed ?? 1);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const out: Float32Array[] = [];
  for (let l = 0; l < layers; l++) {
    const layer = new Float32Array(heads * t * t);
    for (let h = 0; h < heads; h++) {
      const keys = Array.from({ length: t }, () => Array.from({ length: dim }, normal));
      const queries = Array.from({ length: t }, () => Array.from({ length: dim }, normal));
      const targetKey = keys[1 + target] as number[];
      queries[0] = targetKey.map((k) => (opts.strength ?? 3) * k + 0.3 * normal());
      for (let i = 0; i < t; i++) {
        const logits = keys.map((k) => k.reduce((s, v, d) => s + v * ((queries[i] as number[])[d] as number), 0) / Math.sqrt(dim));
        const max = Math.max(...logits);
        const exps = logits.map((z) => Math.exp(z - max));
        const sum = exps.reduce((a, b) => a + b, 0);
        for (let j = 0; j < t; j++) layer[h * t * t + i * t + j] = (exps[j] as number) / sum;
      }
    }
    out.push(layer);
  }
  return out;
}
