import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSafetensors, tensorToFloat32 } from '@vitlens/core';
import { describe, expect, it } from 'vitest';
import { type AttentionMap, attentionMap, dinoMasks, headMaps } from '../src';

// Attention, gradients and maps of the vit-model layout fixtures, all from
// packages/vit-model/scripts/make_golden_layouts.py (PyTorch, float64; the maps written from the
// papers there, independently of this package): DeiT's two special tokens and DINO's view.
function golden(fixture: string): Map<string, { shape: number[]; data: Float32Array }> {
  const file = fileURLToPath(new URL(`../../vit-model/test/fixtures/${fixture}/golden.safetensors`, import.meta.url));
  const { tensors } = readSafetensors(new Uint8Array(fs.readFileSync(file)));
  return new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: tensorToFloat32(t) }]));
}

/** Image `b` of a golden `[B, …]` tensor. */
function image(g: ReturnType<typeof golden>, key: string, b: number): Float32Array {
  const t = g.get(key);
  if (!t) throw new Error(`no golden '${key}'`);
  const size = t.data.length / (t.shape[0] as number);
  return t.data.slice(b * size, (b + 1) * size);
}

function maxDiff(map: AttentionMap, expected: Float32Array): number {
  expect(map.data.length).toBe(expected.length);
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs((map.data[i] as number) - (expected[i] as number)));
  return m;
}

describe('maps with DeiT\'s distillation token (prefixTokens 2) match the reference', () => {
  const g = golden('tiny-deit-distilled');
  const layers = 2;
  for (const b of [0, 1]) {
    const data = {
      heads: 2,
      gridHeight: 4,
      gridWidth: 4,
      prefixTokens: 2,
      layers: Array.from({ length: layers }, (_, l) => image(g, `attentions.${l}`, b)),
      gradients: Array.from({ length: layers }, (_, l) => image(g, `grad.attentions.${l}`, b)),
    };
    it.each([
      ['cls', 0],
      ['distillation', 1],
    ] as const)(`image ${b}: the %s token's per-layer maps, rollout and gradient-weighted map skip both special tokens`, (name, query) => {
      for (let l = 0; l < layers; l++) {
        expect(maxDiff(attentionMap(data, { method: 'cls', layer: l, query }), image(g, `maps.${name}.${l}`, b)), `layer ${l}`).toBeLessThan(1e-6);
      }
      expect(maxDiff(attentionMap(data, { method: 'rollout', query }), image(g, `maps.rollout.${name}`, b))).toBeLessThan(1e-6);
      expect(maxDiff(attentionMap(data, { method: 'gradient', query }), image(g, `maps.gradient.${name}`, b))).toBeLessThan(1e-5);
    });
  }

  it('refuses a query that is not a special token, naming the valid ones', () => {
    const data = { heads: 2, gridHeight: 4, gridWidth: 4, prefixTokens: 2, layers: [image(g, 'attentions.0', 0)] };
    expect(() => attentionMap(data, { method: 'cls', query: 2 })).toThrow(/query must be a special token in 0..1 \(0 = CLS, 1 = distillation\), got 2/);
    expect(() => attentionMap({ ...data, prefixTokens: 1 }, { method: 'cls' })).toThrow(/expected heads·T·T = 2·17·17/);
  });
});

describe('DINO\'s view and the head grid of a headless model match the reference', () => {
  const g = golden('tiny-dino');
  const grid = { heads: 2, gridHeight: 4, gridWidth: 4 };

  it.each([0, 1])('image %i: rollout and the CLS-norm gradient map', (b) => {
    const data = { ...grid, layers: [0, 1].map((l) => image(g, `attentions.${l}`, b)), gradients: [0, 1].map((l) => image(g, `grad.attentions.${l}`, b)) };
    expect(maxDiff(attentionMap(data, { method: 'rollout' }), image(g, 'maps.rollout', b))).toBeLessThan(1e-6);
    expect(maxDiff(attentionMap(data, { method: 'gradient' }), image(g, 'maps.gradient', b))).toBeLessThan(1e-5);
  });

  it.each([0, 1])('image %i: the last layer\'s heads, each thresholded to keep 0.6 of its mass (facebookresearch/dino masks)', (b) => {
    const masks = dinoMasks(image(g, 'attentions.1', b), grid);
    const expected = g.get(`maps.dino.${b}`)!.data; // [heads, 4, 4]
    masks.forEach((m, h) => {
      expect(Array.from(m.data), `head ${h}`).toEqual(Array.from(expected.subarray(h * 16, (h + 1) * 16)));
    });
  });

  it('each head of a head grid is that head alone; their mean is the fused map', () => {
    const layer = image(g, 'attentions.0', 0);
    const heads = headMaps(layer, grid);
    expect(heads).toHaveLength(2);
    const fused = attentionMap({ ...grid, layers: [layer] }, { method: 'cls', layer: 0 });
    heads[0]!.data.forEach((v, i) => {
      expect((v + heads[1]!.data[i]!) / 2).toBeCloseTo(fused.data[i]!, 6);
    });
    const perLayer = attentionMap({ ...grid, layers: [layer] }, { method: 'cls', layer: 0 });
    expect(maxDiff(perLayer, image(g, 'maps.cls.0', 0))).toBeLessThan(1e-6);
  });

  it('DINO ViT-S/8 geometry: masks over a 28×28 grid (785 tokens) keep the patches holding 60% of each head\'s mass', () => {
    const s8 = golden('tiny-dino-s8-224');
    const t = 785;
    const row = s8.get('cls_attention.0')!.data; // [1, heads, 785]: only the CLS row is needed
    const layer = new Float32Array(2 * t * t);
    for (let h = 0; h < 2; h++) layer.set(row.subarray(h * t, (h + 1) * t), h * t * t);
    const masks = dinoMasks(layer, { heads: 2, gridHeight: 28, gridWidth: 28 }, { keep: 0.6 });
    const expected = s8.get('maps.dino')!.data; // [2, 28, 28]
    masks.forEach((m, h) => {
      expect([m.height, m.width]).toEqual([28, 28]);
      let differ = 0;
      for (let i = 0; i < 784; i++) if (m.data[i] !== expected[h * 784 + i]) differ++;
      expect(differ, `head ${h}`).toBe(0);
      let kept = 0;
      let total = 0;
      for (let p = 0; p < 784; p++) {
        total += row[h * t + 1 + p]!;
        if (m.data[p] === 1) kept += row[h * t + 1 + p]!;
      }
      expect(kept / total).toBeGreaterThanOrEqual(0.6 - 1e-6);
    });
  });
});
