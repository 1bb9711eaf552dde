import { initBackend, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeiTForImageClassification, DeiTForImageClassificationWithTeacher, modelFromFiles } from '../src';
import { fixtureFiles, goldenTensor, maxAbsDiff } from './helpers';
import { GOLDEN_BACKENDS, expectAttentionGradients, fixtureGolden } from './layout-helpers';

// scripts/make_golden_layouts.py: a PyTorch DeiT with HF modeling_deit.py semantics and names, float64.
const TOLERANCE = 1e-4;
const distilled = fixtureGolden('tiny-deit-distilled');
const plain = fixtureGolden('tiny-deit');

describe.each(GOLDEN_BACKENDS)('DeiT golden numerics on the %s backend', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  it('loads DeiTForImageClassificationWithTeacher: CLS + distillation token, both heads, their mean as the logits', () => {
    const model = modelFromFiles(fixtureFiles('tiny-deit-distilled'));
    expect(model).toBeInstanceOf(DeiTForImageClassificationWithTeacher);
    expect(model.geometry).toEqual({ prefixTokens: 2, gridHeight: 4, gridWidth: 4, numPatches: 16, tokens: 18 });
    const before = tf.memory().numTensors;
    const x = goldenTensor(distilled, 'pixel_values') as tf.Tensor4D;
    const out = model.forward(x, { outputAttentions: true, outputHiddenStates: true, outputHeadLogits: true });
    expect(maxAbsDiff(out.logits, distilled.get('logits'))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(out.clsLogits!, distilled.get('cls_logits'))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(out.distillationLogits!, distilled.get('distillation_logits'))).toBeLessThan(TOLERANCE);
    expect(out.attentions).toHaveLength(2);
    out.attentions!.forEach((a, i) => {
      expect(maxAbsDiff(a, distilled.get(`attentions.${i}`)), `attention ${i}`).toBeLessThan(TOLERANCE);
    });
    out.hiddenStates!.forEach((h, i) => {
      expect(maxAbsDiff(h, distilled.get(`hidden_states.${i}`)), `hidden ${i}`).toBeLessThan(TOLERANCE);
    });
    tf.dispose([x, out.logits, out.clsLogits!, out.distillationLogits!, ...out.attentions!, ...out.hiddenStates!]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('gives d logit[argmax] / d attention of every layer as PyTorch autograd does (averaged logits)', () => {
    const model = modelFromFiles(fixtureFiles('tiny-deit-distilled'));
    const x = goldenTensor(distilled, 'pixel_values') as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const { logits, attentions, gradients } = model.attentionGradients(x);
    expect(maxAbsDiff(logits, distilled.get('logits'))).toBeLessThan(TOLERANCE);
    expectAttentionGradients(gradients, distilled);
    tf.dispose([logits, ...attentions, ...gradients]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it('runs at 40×40 through position embeddings interpolated around both special tokens, as HF', () => {
    const model = modelFromFiles(fixtureFiles('tiny-deit-distilled'), { imageSize: 40 });
    expect(model.params.get('deit.embeddings.position_embeddings')!.shape).toEqual([1, 27, 32]);
    expect(model.processor.crop_size).toEqual({ height: 40, width: 40 });
    const x = goldenTensor(distilled, 'interp.pixel_values') as tf.Tensor4D;
    const out = model.forward(x, { outputAttentions: true });
    expect(maxAbsDiff(out.logits, distilled.get('interp.logits'))).toBeLessThan(TOLERANCE);
    out.attentions!.forEach((a, i) => {
      expect(maxAbsDiff(a, distilled.get(`interp.attentions.${i}`))).toBeLessThan(TOLERANCE);
    });
    tf.dispose([x, out.logits, ...out.attentions!]);
    model.dispose();
  });

  it('loads DeiTForImageClassification (one classifier on CLS, patch 4) and matches its logits, attentions and hidden states', () => {
    const model = modelFromFiles(fixtureFiles('tiny-deit'));
    expect(model).toBeInstanceOf(DeiTForImageClassification);
    const x = goldenTensor(plain, 'pixel_values') as tf.Tensor4D;
    const out = model.forward(x, { outputAttentions: true, outputHiddenStates: true, outputHeadLogits: true });
    expect(out.clsLogits).toBeUndefined(); // one head: logits are its logits
    expect(maxAbsDiff(out.logits, plain.get('logits'))).toBeLessThan(TOLERANCE);
    out.attentions!.forEach((a, i) => {
      expect(maxAbsDiff(a, plain.get(`attentions.${i}`)), `attention ${i}`).toBeLessThan(TOLERANCE);
    });
    out.hiddenStates!.forEach((h, i) => {
      expect(maxAbsDiff(h, plain.get(`hidden_states.${i}`)), `hidden ${i}`).toBeLessThan(TOLERANCE);
    });
    tf.dispose([x, out.logits, ...out.attentions!, ...out.hiddenStates!]);
    model.dispose();
  });
});
