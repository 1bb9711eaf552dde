/**
 * Bicubic resize of a small [inH, inW, dim] grid (channels last) to [outH, outW, dim], exactly as
 * `torch.nn.functional.interpolate(mode="bicubic", align_corners=False)` with an explicit `size`:
 * source coordinate (dst + ½)·in/out − ½, Keys cubic kernel with A = −0.75, border taps clamped.
 * Used once per load for HF's `interpolate_pos_encoding`, so a plain loop is fast enough.
 */
const A = -0.75;

function cubicNear(x: number): number {
  return ((A + 2) * x - (A + 3)) * x * x + 1; // |x| ≤ 1
}

function cubicFar(x: number): number {
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; // 1 < |x| < 2
}

/** For each output index: the four clamped source indices and their weights. */
function taps(inSize: number, outSize: number): { index: Int32Array; weight: Float64Array } {
  const index = new Int32Array(outSize * 4);
  const weight = new Float64Array(outSize * 4);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5; // not clamped at 0 for cubic, as torch
    const base = Math.floor(src);
    const t = src - base;
    const w = [cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)];
    for (let k = 0; k < 4; k++) {
      index[o * 4 + k] = Math.min(Math.max(base - 1 + k, 0), inSize - 1);
      weight[o * 4 + k] = w[k]!;
    }
  }
  return { index, weight };
}

export function bicubicResize(
  input: Float32Array,
  inH: number,
  inW: number,
  dim: number,
  outH: number,
  outW: number,
): Float32Array {
  if (input.length !== inH * inW * dim) {
    throw new Error(`bicubicResize: ${input.length} values do not fill [${inH}, ${inW}, ${dim}]`);
  }
  const ty = taps(inH, outH);
  const tx = taps(inW, outW);
  // Horizontal pass: [inH, inW, dim] → [inH, outW, dim].
  const rows = new Float64Array(inH * outW * dim);
  for (let y = 0; y < inH; y++) {
    for (let x = 0; x < outW; x++) {
      const out = (y * outW + x) * dim;
      for (let k = 0; k < 4; k++) {
        const w = tx.weight[x * 4 + k]!;
        const src = (y * inW + tx.index[x * 4 + k]!) * dim;
        for (let c = 0; c < dim; c++) rows[out + c]! += w * input[src + c]!;
      }
    }
  }
  // Vertical pass: [inH, outW, dim] → [outH, outW, dim].
  const result = new Float32Array(outH * outW * dim);
  const acc = new Float64Array(dim);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      acc.fill(0);
      for (let k = 0; k < 4; k++) {
        const w = ty.weight[y * 4 + k]!;
        const src = (ty.index[y * 4 + k]! * outW + x) * dim;
        for (let c = 0; c < dim; c++) acc[c]! += w * rows[src + c]!;
      }
      result.set(acc, (y * outW + x) * dim);
    }
  }
  return result;
}

/**
 * HF `ViTEmbeddings.interpolate_pos_encoding` (and `DeiTEmbeddings`', with `prefixTokens` 2) applied
 * once to the stored table: [1, prefix + g·g, dim] → [1, prefix + newH·newW, dim]; the CLS (and
 * distillation) positions are kept as they are.
 */
export function interpolatePositionEmbeddings(table: Float32Array, dim: number, newGridH: number, newGridW: number, prefixTokens = 1): Float32Array {
  const numPositions = table.length / dim - prefixTokens;
  const grid = Math.round(Math.sqrt(numPositions));
  if (grid * grid !== numPositions) {
    throw new Error(`position_embeddings: ${numPositions} patch positions do not form a square grid`);
  }
  const resized = bicubicResize(table.subarray(dim * prefixTokens), grid, grid, dim, newGridH, newGridW);
  const out = new Float32Array(dim * (prefixTokens + newGridH * newGridW));
  out.set(table.subarray(0, dim * prefixTokens), 0);
  out.set(resized, dim * prefixTokens);
  return out;
}
