import { initBackend, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ViTModel, modelFromFiles } from '../src';
import { fixtureFiles, goldenTensor, maxAbsDiff } from './helpers';
import { GOLDEN_BACKENDS, expectAttentionGradients, fixtureGolden } from './layout-helpers';

// scripts/make_golden_layouts.py: PyTorch ViTModels with HF semantics and bare keys (DINO's layout), float64.
const TOLERANCE = 1e-4;
const dino = fixtureGolden('tiny-dino');
const s8 = fixtureGolden('tiny-dino-s8-224');

/** The 224×224 input of the ViT-S/8-geometry fixture: pixel[0, y, x, c] = sin(0.05·y + 0.07·x + 1.3·c). */
function formulaPixels(): tf.Tensor4D {
  const data = new Float32Array(224 * 224 * 3);
  for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) for (let c = 0; c < 3; c++) data[(y * 224 + x) * 3 + c] = Math.sin(0.05 * y + 0.07 * x + 1.3 * c);
  return tf.tensor4d(data, [1, 224, 224, 3]);
}

describe.each(GOLDEN_BACKENDS)('headless ViTModel (DINO layout) golden numerics on the %s backend', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  it('loads a bare-key ViTModel with its pooler, and gives last_hidden_state, pooler_output, attentions and hidden states', () => {
    const model = modelFromFiles(fixtureFiles('tiny-dino'));
    expect(model).toBeInstanceOf(ViTModel);
    expect(model.hasClassifier).toBe(false);
    expect(model.layout.pooler).toBe(true);
    const before = tf.memory().numTensors;
    const x = goldenTensor(dino, 'pixel_values') as tf.Tensor4D;
    const out = model.forwardFeatures(x, { outputAttentions: true, outputHiddenStates: true });
    expect(maxAbsDiff(out.lastHiddenState, dino.get('last_hidden_state'))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(out.poolerOutput!, dino.get('pooler_output'))).toBeLessThan(TOLERANCE);
    out.attentions!.forEach((a, i) => {
      expect(maxAbsDiff(a, dino.get(`attentions.${i}`)), `attention ${i}`).toBeLessThan(TOLERANCE);
    });
    out.hiddenStates!.forEach((h, i) => {
      expect(maxAbsDiff(h, dino.get(`hidden_states.${i}`)), `hidden ${i}`).toBeLessThan(TOLERANCE);
    });
    tf.dispose([x, out.lastHiddenState, out.poolerOutput!, ...out.attentions!, ...out.hiddenStates!]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('says plainly that it has no classifier when asked for logits or class gradients', () => {
    const model = modelFromFiles(fixtureFiles('tiny-dino'));
    const x = goldenTensor(dino, 'pixel_values') as tf.Tensor4D;
    expect(() => model.forward(x)).toThrow(/forward: this ViTModel has no classifier .*use forwardFeatures\(\)/);
    expect(() => model.attentionGradients(x)).toThrow(/attentionGradients: this ViTModel has no classifier .*embeddingNormGradients/);
    x.dispose();
    model.dispose();
  });

  it('differentiates the norm of the CLS embedding w.r.t. every attention map, as PyTorch autograd does', () => {
    const model = modelFromFiles(fixtureFiles('tiny-dino'));
    const x = goldenTensor(dino, 'pixel_values') as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const { target, attentions, gradients } = model.embeddingNormGradients(x);
    expect(target.shape).toEqual([2]);
    expectAttentionGradients(gradients, dino);
    tf.dispose([target, ...attentions, ...gradients]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it('runs at 48×48 through interpolated position embeddings, as HF interpolate_pos_encoding', () => {
    const model = modelFromFiles(fixtureFiles('tiny-dino'), { imageSize: 48 });
    const x = goldenTensor(dino, 'interp.pixel_values') as tf.Tensor4D;
    const out = model.forwardFeatures(x, { outputAttentions: true });
    expect(maxAbsDiff(out.lastHiddenState, dino.get('interp.last_hidden_state'))).toBeLessThan(TOLERANCE);
    out.attentions!.forEach((a, i) => {
      expect(maxAbsDiff(a, dino.get(`interp.attentions.${i}`))).toBeLessThan(TOLERANCE);
    });
    tf.dispose([x, out.lastHiddenState, out.poolerOutput!, ...out.attentions!]);
    model.dispose();
  });

  it('runs DINO ViT-S/8 geometry: patch 8 at 224 is a 28×28 grid, 785 tokens, matching the reference', () => {
    const model = modelFromFiles(fixtureFiles('tiny-dino-s8-224'));
    expect(model.geometry).toEqual({ prefixTokens: 1, gridHeight: 28, gridWidth: 28, numPatches: 784, tokens: 785 });
    expect(model.layout.pooler).toBe(false);
    const x = formulaPixels();
    const out = model.forwardFeatures(x, { outputAttentions: true });
    expect(out.poolerOutput).toBeUndefined();
    expect(out.attentions![0]!.shape).toEqual([1, 2, 785, 785]);
    const clsRow = tf.tidy(() => tf.squeeze(tf.slice(out.attentions![0]!, [0, 0, 0, 0], [1, 2, 1, 785]), [2])); // [1, heads, 785]
    expect(maxAbsDiff(clsRow, s8.get('cls_attention.0'))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(out.lastHiddenState, s8.get('last_hidden_state'))).toBeLessThan(TOLERANCE);
    tf.dispose([x, clsRow, out.lastHiddenState, ...out.attentions!]);
    model.dispose();
  });
});
