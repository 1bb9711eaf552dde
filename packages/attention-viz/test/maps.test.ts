import { describe, expect, it } from 'vitest';
import fixture from './fixtures/maps-numpy.json';
import {
  attentionMap,
  attentionRollout,
  clsAttention,
  discardLowest,
  gradientAttention,
  gradientRelevance,
  normalizeMap,
  patchGrid,
  percentile,
  rolloutMatrix,
  toGrid,
  upsampleBilinear,
} from '../src/index';
import { argmax, attentionLookingAt, layerFrom } from './helpers';

const expectClose = (actual: ArrayLike<number>, expected: number[], digits = 6) => {
  expect(actual.length).toBe(expected.length);
  for (const [i, v] of expected.entries()) expect(actual[i]).toBeCloseTo(v, digits);
};

// T = 3: CLS + a 1×2 patch grid
const grid1x2 = { heads: 1, gridHeight: 1, gridWidth: 2 };

describe('CLS attention', () => {
  it('takes the CLS query row over the patches, fusing heads by mean, max or min, or one head alone', () => {
    const layer = layerFrom([
      [[0.2, 0.5, 0.3], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]],
      [[0.4, 0.1, 0.5], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]],
    ]);
    const grid = { ...grid1x2, heads: 2 };
    expectClose(clsAttention(layer, grid, { fusion: 'mean' }).data, [0.3, 0.4]);
    expectClose(clsAttention(layer, grid, { fusion: 'max' }).data, [0.5, 0.5]);
    expectClose(clsAttention(layer, grid, { fusion: 'min' }).data, [0.1, 0.3]);
    expectClose(clsAttention(layer, grid, { head: 1 }).data, [0.1, 0.5]);
  });

  it('reshapes a non-square 2×3 grid row-major, without tiling', () => {
    // T = 7; the CLS row holds [cls, p0..p5] = [9, 1..6]
    const t = 7;
    const layer = new Float32Array(t * t).fill(0.5);
    layer.set([9, 1, 2, 3, 4, 5, 6], 0);
    const map = clsAttention(layer, { heads: 1, gridHeight: 2, gridWidth: 3 });
    expect([map.height, map.width]).toEqual([2, 3]);
    expect(Array.from(map.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const tall = clsAttention(layer, { heads: 1, gridHeight: 3, gridWidth: 2 });
    expect([tall.height, tall.width]).toEqual([3, 2]);
    expect(Array.from(tall.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('puts token 1 + r·14 + c at row r, column c of the 14×14 grid (the 197-token case) and never reuses the CLS entry', () => {
    const t = 197;
    const layer = new Float32Array(t * t);
    for (let j = 0; j < t; j++) layer[j] = j; // CLS row: token index
    const map = clsAttention(layer, { heads: 1, gridHeight: 14, gridWidth: 14 });
    expect(map.data.length).toBe(196);
    expect(map.data[3 * 14 + 5]).toBe(1 + 3 * 14 + 5);
    expect(map.data[0]).toBe(1);
    expect(map.data[195]).toBe(196);
    expect(Array.from(map.data)).not.toContain(0); // the CLS→CLS entry (value 0) is not in the map
  });

  it('rejects 197 values for a 196-patch grid instead of tiling them', () => {
    expect(() => toGrid(new Float32Array(197), 14, 14)).toThrow(/197 patch values do not fill a 14×14 grid \(196 expected/);
  });

  it('names the field and the expected size when the attention has the wrong length', () => {
    expect(() => clsAttention(new Float32Array(10), { heads: 2, gridHeight: 1, gridWidth: 2 })).toThrow(
      /layer has 10 values; expected heads·T·T = 2·3·3 = 18/,
    );
    expect(() => clsAttention(new Float32Array(9), grid1x2, { head: 4 })).toThrow(/head must be an integer in 0..0, got 4/);
    expect(() => clsAttention(new Float32Array(9), grid1x2, { fusion: 'median' as never })).toThrow(/fusion must be one of mean, max, min/);
  });

  it('derives the patch grid from the image and patch sizes, including non-square images', () => {
    expect(patchGrid(32, 32, 4)).toEqual({ gridHeight: 8, gridWidth: 8 });
    expect(patchGrid(224, 224, 16)).toEqual({ gridHeight: 14, gridWidth: 14 });
    expect(patchGrid(32, 48, 16)).toEqual({ gridHeight: 2, gridWidth: 3 });
    expect(() => patchGrid(30, 32, 4)).toThrow(/30×32 is not a whole number of 4×4 patches/);
  });
});

describe('attention rollout', () => {
  it('adds the identity, halves, and keeps CLS→patch attention for one row-stochastic layer', () => {
    // Â row 0 = 0.5·[0.5, 0.3, 0.2] + 0.5·[1, 0, 0] = [0.75, 0.15, 0.1] (already sums to 1)
    const layer = layerFrom([[[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]]]);
    expectClose(attentionRollout([layer], grid1x2).data, [0.15, 0.1]);
  });

  it('renormalises rows after max fusion makes them sum above 1', () => {
    // max over heads, row 0 = [0.4, 0.5, 0.3]; + I = [1.4, 0.5, 0.3] / 2.2
    const layer = layerFrom([
      [[0.2, 0.5, 0.3], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]],
      [[0.4, 0.3, 0.3], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]],
    ]);
    const m = rolloutMatrix([layer], { ...grid1x2, heads: 2 }, { fusion: 'max' });
    expectClose(Array.from(m.slice(0, 3)), [1.4 / 2.2, 0.5 / 2.2, 0.3 / 2.2]);
    for (let i = 0; i < 3; i++) expect((m[i * 3] as number) + (m[i * 3 + 1] as number) + (m[i * 3 + 2] as number)).toBeCloseTo(1, 12);
  });

  it('multiplies later layers on the left: R = Â₂·Â₁', () => {
    // Â₁ = [[1,0,0],[0.5,0.5,0],[0,0,1]]   (A₁ sends token 1 to CLS)
    // Â₂ = [[0.5,0.5,0],[0,1,0],[0,0,1]]   (A₂ sends CLS to token 1)
    // R[0] = 0.5·Â₁[0] + 0.5·Â₁[1] = [0.75, 0.25, 0]
    const a1 = layerFrom([[[1, 0, 0], [1, 0, 0], [0, 0, 1]]]);
    const a2 = layerFrom([[[0, 1, 0], [0, 1, 0], [0, 0, 1]]]);
    expectClose(attentionRollout([a1, a2], grid1x2).data, [0.25, 0]);
    // the other order: R[0] = Â₁[0]·Â₂ = [0.5, 0.5, 0]
    expectClose(attentionRollout([a2, a1], grid1x2).data, [0.5, 0]);
  });

  it("drops the floor(T²·ratio) lowest entries but never [CLS, CLS] (vit-explain's discard_ratio)", () => {
    // 9 entries, ratio 0.34 → k = 3: the lowest are flat 0 (0.05, kept), 3 (0.1) and 5 (0.1)
    const layer = layerFrom([[[0.05, 0.55, 0.4], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]]);
    const m = rolloutMatrix([layer], grid1x2, { discardRatio: 0.34 });
    expectClose(Array.from(m.slice(0, 3)), [0.525, 0.275, 0.2]); // [1.05, 0.55, 0.4] / 2
    expectClose(Array.from(m.slice(3, 6)), [0, 1, 0]); // [0, 1.8, 0] / 1.8
    expectClose(Array.from(m.slice(6, 9)), [0.15, 0.15, 0.7]); // untouched: [0.3, 0.3, 1.4] / 2
    const values = new Float64Array([0.05, 0.55, 0.4, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4]);
    discardLowest(values, 0.34);
    expect(Array.from(values)).toEqual([0.05, 0.55, 0.4, 0, 0.8, 0, 0.3, 0.3, 0.4]);
  });

  it('matches numpy on random attention with a 2×3 grid (mean, max, min fusion; discard ratios 0, 0.3, 0.9)', () => {
    const layers = fixture.layers.map((l) => Float32Array.from(l));
    const grid = { heads: fixture.heads, gridHeight: fixture.gridHeight, gridWidth: fixture.gridWidth };
    expectClose(attentionRollout(layers, grid, { fusion: 'mean' }).data, fixture.rollout_mean_0, 6);
    expectClose(attentionRollout(layers, grid, { fusion: 'mean', discardRatio: 0.3 }).data, fixture['rollout_mean_0.3'], 6);
    expectClose(attentionRollout(layers, grid, { fusion: 'max', discardRatio: 0.9 }).data, fixture['rollout_max_0.9'], 6);
    expectClose(attentionRollout(layers, grid, { fusion: 'min' }).data, fixture.rollout_min_0, 6);
  });

  it('rejects a discard ratio outside [0, 1) and an empty layer list', () => {
    const layer = layerFrom([[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]);
    expect(() => attentionRollout([layer], grid1x2, { discardRatio: 1 })).toThrow(/discardRatio must be in \[0, 1\), got 1/);
    expect(() => attentionRollout([], grid1x2)).toThrow(/layers is empty/);
  });
});

describe('gradient-weighted attention (Chefer et al. 2021)', () => {
  it('clamps ∇A⊙A per head before averaging, then adds Ā·R to R = I', () => {
    // head 0 row 0: [0.2,0.5,0.3]⊙[1,2,-1] = [0.2,1,-0.3] → [0.2,1,0]
    // head 1 row 0: [0.4,0.4,0.2]⊙[-1,-0.5,3] = [-0.4,-0.2,0.6] → [0,0,0.6]
    // Ā row 0 = [0.1, 0.5, 0.3]; R row 0 = [1.1, 0.5, 0.3]
    const a = layerFrom([
      [[0.2, 0.5, 0.3], [0, 1, 0], [0, 0, 1]],
      [[0.4, 0.4, 0.2], [0, 1, 0], [0, 0, 1]],
    ]);
    const g = layerFrom([
      [[1, 2, -1], [0, 0, 0], [0, 0, 0]],
      [[-1, -0.5, 3], [0, 0, 0], [0, 0, 0]],
    ]);
    const grid = { ...grid1x2, heads: 2 };
    expectClose(gradientAttention([a], [g], grid).data, [0.5, 0.3]);
    const r = gradientRelevance([a], [g], grid);
    expectClose(Array.from(r.slice(0, 3)), [1.1, 0.5, 0.3]);
    expectClose(Array.from(r.slice(3, 6)), [0, 1, 0]);
  });

  it('accumulates over layers: R₂ = R₁ + Ā₂·R₁', () => {
    // layer 1: Ā₁ = only [1,0] = 1 → R₁ = I + E₁₀ → R₁[1] = [1, 1, 0]
    // layer 2: Ā₂ = only [0,1] = 0.5 → R₂[0] = R₁[0] + 0.5·R₁[1] = [1.5, 0.5, 0]
    const one = (i: number, j: number, v: number) => {
      const m = new Float32Array(9);
      m[i * 3 + j] = v;
      return m;
    };
    const ones = new Float32Array(9).fill(1);
    expectClose(gradientAttention([one(1, 0, 1), one(0, 1, 0.5)], [ones, ones], grid1x2).data, [0.5, 0]);
  });

  it('matches numpy on random attention and gradients with a 2×3 grid', () => {
    const layers = fixture.layers.map((l) => Float32Array.from(l));
    const grads = fixture.gradients.map((l) => Float32Array.from(l));
    const grid = { heads: fixture.heads, gridHeight: fixture.gridHeight, gridWidth: fixture.gridWidth };
    expectClose(gradientAttention(layers, grads, grid).data, fixture.gradient, 6);
  });

  it('needs one gradient per layer', () => {
    const a = new Float32Array(9);
    expect(() => gradientAttention([a, a], [a], grid1x2)).toThrow(/gradients has 1 layers, attention has 2/);
    expect(() => attentionMap({ ...grid1x2, layers: [a] }, { method: 'gradient' })).toThrow(/needs data.gradients/);
  });
});

describe('a transformer whose CLS query looks at one known patch', () => {
  const grid = { heads: 4, gridHeight: 8, gridWidth: 8 };
  const target = 2 * 8 + 5; // row 2, column 5
  const layers = attentionLookingAt(target, { heads: 4, t: 65, layers: 6, seed: 11 });

  it('gives a CLS map whose maximum is that patch in every layer and for every fusion', () => {
    for (const layer of layers) {
      for (const fusion of ['mean', 'max', 'min'] as const) expect(argmax(clsAttention(layer, grid, { fusion }).data)).toBe(target);
    }
  });

  it('gives a rollout map whose maximum is that patch, with and without discarding', () => {
    expect(argmax(attentionRollout(layers, grid).data)).toBe(target);
    expect(argmax(attentionRollout(layers, grid, { fusion: 'max', discardRatio: 0.9 }).data)).toBe(target);
  });

  it('dispatches by method and counts negative layers from the end', () => {
    const data = { ...grid, layers };
    expect(attentionMap(data, { method: 'cls', layer: -1 }).data).toEqual(clsAttention(layers[5] as Float32Array, grid).data);
    expect(() => attentionMap(data, { layer: 6 })).toThrow(/layer must be an integer in -6..5, got 6/);
    expect(() => attentionMap(data, { method: 'flow' as never })).toThrow(/method must be one of cls, rollout, gradient/);
  });
});

describe('normalisation and upsampling', () => {
  const map = { data: Float32Array.from([2, 4, 6, 10]), height: 2, width: 2 };

  it('min-max scales to [0, 1]; a constant map becomes zeros', () => {
    expectClose(normalizeMap(map).data, [0, 0.25, 0.5, 1]);
    expect(Array.from(normalizeMap({ data: new Float32Array(4).fill(3), height: 2, width: 2 }).data)).toEqual([0, 0, 0, 0]);
  });

  it('percentile normalisation clips at numpy-style interpolated percentiles', () => {
    expect(percentile(map.data, 50)).toBeCloseTo(5, 12); // between 4 and 6
    expect(percentile(map.data, 90)).toBeCloseTo(8.8, 6); // 6 + 0.7·4
    // low 0 → 2, high 50 → 5
    expectClose(normalizeMap(map, { method: 'percentile', low: 0, high: 50 }).data, [0, 2 / 3, 1, 1]);
    expect(() => normalizeMap(map, { method: 'percentile', low: 60, high: 50 })).toThrow(/0 ≤ low < high ≤ 100/);
  });

  it('upsamples bilinearly with half-pixel centres and clamped edges', () => {
    const up = upsampleBilinear({ data: Float32Array.from([0, 1, 2, 3]), height: 2, width: 2 }, 4, 4);
    // columns sample at source x = -0.25→0, 0.25, 0.75, 1.25→1
    expectClose(Array.from(up.data.slice(0, 4)), [0, 0.25, 0.75, 1]);
    expectClose(Array.from(up.data.slice(4, 8)), [0.5, 0.75, 1.25, 1.5]); // row at source y = 0.25
    expectClose(Array.from(up.data.slice(12, 16)), [2, 2.25, 2.75, 3]);
  });

  it('upsamples a non-square map to a non-square image keeping each patch value at its patch centre', () => {
    const m = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), height: 2, width: 3 };
    const up = upsampleBilinear(m, 8, 12); // patch 4: centres at (1.5, 1.5), (1.5, 5.5), …
    expect(up.data.length).toBe(96);
    expect(up.data[0]).toBeCloseTo(1, 6);
    expect(up.data[7 * 12 + 11]).toBeCloseTo(6, 6);
    expect(up.data[1 * 12 + 5]).toBeCloseTo(1.875, 6); // source x = 5.5·0.25 − 0.5 = 0.875 (between patches 0 and 1), y clamps to row 0
  });
});
