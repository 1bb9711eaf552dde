import { initBackend, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DeiTForImageClassificationWithTeacher,
  ViTForImageClassification,
  ViTModel,
  type VisionTransformer,
  WidenError,
  createConfig,
  modelFromFiles,
  narrowModel,
  widenModel,
} from '../src';
import { fixtureFiles } from './helpers';

// Weights drawn wider than HF's 0.02 so that attention is far from uniform and the logits far from
// zero: a widening that changed the function would show.
const config = (overrides = {}) =>
  createConfig('vit-mini-patch4-32', {
    hidden_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 3,
    intermediate_size: 40,
    image_size: 16,
    initializer_range: 0.3,
    ...overrides,
  });

function pixels(batch: number, size: number, seed = 7): tf.Tensor4D {
  return tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}

/** Largest |a − b| and the largest |a|, over two tensors of one shape. */
function compare(a: tf.Tensor, b: tf.Tensor): { diff: number; scale: number } {
  expect(b.shape).toEqual(a.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(x[i]!));
  }
  return { diff, scale };
}

/** Runs both models on the same pixels; returns the worst logit and attention-probability differences. */
function sameFunction(narrow: VisionTransformer, wide: VisionTransformer, size: number): { logits: number; attention: number; logitScale: number } {
  return tf.tidy(() => {
    const x = pixels(3, size);
    const a = narrow.forward(x, { outputAttentions: true });
    const b = wide.forward(x, { outputAttentions: true });
    const logits = compare(a.logits, b.logits);
    let attention = 0;
    a.attentions!.forEach((att, i) => {
      attention = Math.max(attention, compare(att, b.attentions![i]!).diff);
    });
    return { logits: logits.diff, attention, logitScale: logits.scale };
  });
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('widenModel', () => {
  it.each([2, 3])('makes a ViT %i times as wide that computes the same logits and attention maps', (factor) => {
    const narrow = ViTForImageClassification.create(config(), { seed: 3 });
    const before = tf.memory().numTensors;
    const wide = widenModel(narrow, { factor, seed: 1 });
    expect(wide).toBeInstanceOf(ViTForImageClassification);
    expect(wide.config.hidden_size).toBe(24 * factor);
    expect([wide.config.num_attention_heads, wide.config.intermediate_size, wide.config.num_hidden_layers]).toEqual([3, 40, 2]);
    expect(wide.params.get('vit.encoder.layer.0.attention.attention.query.weight')!.shape).toEqual([24 * factor, 24 * factor]);
    expect(wide.params.get('vit.embeddings.patch_embeddings.projection.weight')!.shape).toEqual([24 * factor, 3, 4, 4]);
    const { logits, attention, logitScale } = sameFunction(narrow, wide, 16);
    expect(logitScale).toBeGreaterThan(0.5); // the check has something to compare
    expect(logits).toBeLessThan(1e-4 * logitScale);
    expect(attention).toBeLessThan(1e-5);
    wide.dispose();
    expect(tf.memory().numTensors).toBe(before);
    narrow.dispose();
  });

  it('breaks the symmetry between copies with noise that leaves the function unchanged', () => {
    const narrow = ViTForImageClassification.create(config(), { seed: 3 });
    const noisy = widenModel(narrow, { seed: 1 });
    const exact = widenModel(narrow, { noiseStd: 0 });
    const again = widenModel(narrow, { seed: 1 });
    const name = 'vit.encoder.layer.1.intermediate.dense.weight'; // [40, 48]: columns j and j + 24 read the same input
    const columns = (m: VisionTransformer) => {
      const w = m.params.get(name)!.arraySync() as number[][];
      return { first: w.map((row) => row[5]!), second: w.map((row) => row[29]!) };
    };
    const e = columns(exact);
    expect(e.first).toEqual(e.second);
    const n = columns(noisy);
    const gap = Math.max(...n.first.map((v, i) => Math.abs(v - n.second[i]!)));
    expect(gap).toBeGreaterThan(1e-3);
    // each pair sums to what the exact copies sum to
    n.first.forEach((v, i) => {
      expect(v + n.second[i]!).toBeCloseTo(e.first[i]! + e.second[i]!, 5);
    });
    expect(columns(again)).toEqual(n);
    expect(sameFunction(narrow, noisy, 16).logits).toBeLessThan(1e-4 * sameFunction(narrow, exact, 16).logitScale);
    for (const m of [narrow, noisy, exact, again]) m.dispose();
  });

  it('widens a DeiT with its distillation token and both heads', () => {
    const narrow = DeiTForImageClassificationWithTeacher.create(
      createConfig('vit-mini-patch4-32', { model_type: 'deit', hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24, image_size: 8, initializer_range: 0.3 }),
      { seed: 5 },
    );
    const wide = widenModel(narrow, { seed: 2 });
    expect(wide).toBeInstanceOf(DeiTForImageClassificationWithTeacher);
    expect(wide.params.get('deit.embeddings.distillation_token')!.shape).toEqual([1, 1, 32]);
    const { logits, logitScale } = sameFunction(narrow, wide, 8);
    expect(logits).toBeLessThan(1e-4 * logitScale);
    narrow.dispose();
    wide.dispose();
  });

  it("keeps a loaded HF checkpoint's function", () => {
    const narrow = modelFromFiles(fixtureFiles('tiny-vit'));
    const wide = widenModel(narrow, { seed: 4 });
    const size = narrow.config.image_size;
    const { logits, logitScale } = sameFunction(narrow, wide, size);
    expect(logits).toBeLessThanOrEqual(1e-4 * Math.max(logitScale, 1e-3));
    narrow.dispose();
    wide.dispose();
  });

  it('rejects a factor that is not an integer ≥ 2, negative noise and a model with a pooler', () => {
    const narrow = ViTForImageClassification.create(config(), { seed: 3 });
    expect(() => widenModel(narrow, { factor: 1 })).toThrow(/factor must be an integer ≥ 2, got 1/);
    expect(() => widenModel(narrow, { factor: 1.5 })).toThrow(WidenError);
    expect(() => widenModel(narrow, { noiseStd: -1 })).toThrow(/noiseStd must be a number ≥ 0, got -1/);
    narrow.dispose();
    const bare = ViTModel.create(config(), { seed: 3 });
    expect(bare.layout.pooler).toBe(true);
    expect(() => widenModel(bare, {})).toThrow(/ViTModel with a pooler cannot be widened/);
    bare.dispose();
  });
});

/** Largest |a − b| over every parameter of two models with the same names and shapes. */
function maxParamDiff(a: VisionTransformer, b: VisionTransformer): number {
  let diff = 0;
  for (const [name, p] of a.params) {
    const q = b.params.get(name);
    expect(q, name).toBeDefined();
    expect(q!.shape, name).toEqual(p.shape);
    diff = Math.max(diff, compare(p, q!).diff);
  }
  return diff;
}

describe('narrowModel', () => {
  it.each([2, 3])('undoes a widening by %i: the same config and weights back, noise and all', (factor) => {
    const narrow = ViTForImageClassification.create(config(), { seed: 3 });
    const wide = widenModel(narrow, { factor, seed: 1, noiseStd: 0.5 }); // noise larger than the weights
    const before = tf.memory().numTensors;
    const back = narrowModel(wide, { factor });
    expect(back.config).toEqual(narrow.config);
    expect(maxParamDiff(narrow, back)).toBeLessThan(1e-5);
    expect(sameFunction(narrow, back, 16).attention).toBeLessThan(1e-5);
    back.dispose();
    expect(tf.memory().numTensors).toBe(before);
    narrow.dispose();
    wide.dispose();
  });

  it('undoes the widening of a DeiT with its distillation token and both heads', () => {
    const narrow = DeiTForImageClassificationWithTeacher.create(
      createConfig('vit-mini-patch4-32', { model_type: 'deit', hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24, image_size: 8, initializer_range: 0.3 }),
      { seed: 5 },
    );
    const wide = widenModel(narrow, { seed: 2 });
    const back = narrowModel(wide);
    expect(back).toBeInstanceOf(DeiTForImageClassificationWithTeacher);
    expect(maxParamDiff(narrow, back)).toBeLessThan(1e-5);
    for (const m of [narrow, wide, back]) m.dispose();
  });

  it('merges copies that drifted apart into their mean, and a new widening re-splits them', () => {
    const narrow = ViTForImageClassification.create(config(), { seed: 3 });
    const wide = widenModel(narrow, { seed: 1 });
    // As training moves the copies apart: copy 2 of every residual channel of the patch projection
    // drifts by +δ, copy 1 by −δ, so their mean is the narrow model's row.
    const name = 'vit.embeddings.patch_embeddings.projection.weight'; // [48, 3, 4, 4]: rows j and j + 24 are copies
    const drifted = wide.params.get(name)!.arraySync() as number[][][][];
    drifted.forEach((row, j) => {
      const delta = j < 24 ? -0.25 : 0.25;
      for (const plane of row) {
        for (const line of plane) {
          for (let i = 0; i < line.length; i++) line[i] = line[i]! + delta;
        }
      }
    });
    const moved = tf.tensor4d(drifted);
    wide.params.get(name)!.assign(moved);
    moved.dispose();
    expect(sameFunction(narrow, wide, 16).logits).toBeGreaterThan(1e-3); // the drift changed the function
    const merged = narrowModel(wide);
    expect(maxParamDiff(narrow, merged)).toBeLessThan(1e-5);
    const resplit = widenModel(merged, { seed: 9, noiseStd: 0.3 });
    const { logits, logitScale } = sameFunction(narrow, resplit, 16);
    expect(logits).toBeLessThan(1e-4 * logitScale);
    for (const m of [narrow, wide, merged, resplit]) m.dispose();
  });

  it('rejects a factor that does not divide the heads, a factor below 2 and a model with a pooler', () => {
    const model = ViTForImageClassification.create(config(), { seed: 3 }); // hidden 24, 3 heads of 8
    expect(() => narrowModel(model, { factor: 3 })).toThrow(/hidden_size 24 with 3 heads cannot be split into 3 copies \(each head's 8 dims must divide by 3\)/);
    expect(() => narrowModel(model, { factor: 1 })).toThrow(/narrow: factor must be an integer ≥ 2, got 1/);
    model.dispose();
    const bare = ViTModel.create(config(), { seed: 3 });
    expect(() => narrowModel(bare)).toThrow(WidenError);
    bare.dispose();
  });
});
