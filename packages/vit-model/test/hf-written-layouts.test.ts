import fs from 'node:fs';
import path from 'node:path';
import { initBackend, readSafetensors, tensorToFloat32, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Architecture, modelFromFiles } from '../src';
import { FIXTURES, maxAbsDiff } from './helpers';
import { GOLDEN_BACKENDS } from './layout-helpers';

// fixtures/hf-written-layouts/<architecture> were written by the real Hugging Face `transformers`
// 5.18 (save_pretrained of random models, golden outputs in float64) with
// scripts/check_layouts_with_transformers.py write-hf; see report.json and transformers-check.json.
const ARCHITECTURES: Architecture[] = ['DeiTForImageClassificationWithTeacher', 'DeiTForImageClassification', 'ViTModel'];
const TOLERANCE = 1e-4;

function files(architecture: Architecture) {
  const dir = path.join(FIXTURES, 'hf-written-layouts', architecture);
  const golden = readSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'golden.safetensors')))).tensors;
  return {
    checkpoint: {
      config: JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')),
      weights: new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))),
      source: dir,
    },
    golden: new Map([...golden].map(([k, t]) => [k, { shape: t.shape, data: tensorToFloat32(t) }])),
  };
}

describe.each(GOLDEN_BACKENDS)('checkpoints saved by Hugging Face transformers, every layout, on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  it.each(ARCHITECTURES)('%s loads as itself and reproduces transformers’ outputs and every attention map', (architecture) => {
    const { checkpoint, golden } = files(architecture);
    const model = modelFromFiles(checkpoint);
    expect(model.architecture).toBe(architecture);
    const nchw = golden.get('pixel_values_nchw')!;
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(nchw.data, nchw.shape as [number, number, number, number]), [0, 2, 3, 1])) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    if (model.hasClassifier) {
      const out = model.forward(x, { outputAttentions: true, outputHeadLogits: true });
      expect(maxAbsDiff(out.logits, golden.get('logits'))).toBeLessThan(TOLERANCE);
      if (golden.has('cls_logits')) {
        expect(maxAbsDiff(out.clsLogits!, golden.get('cls_logits'))).toBeLessThan(TOLERANCE);
        expect(maxAbsDiff(out.distillationLogits!, golden.get('distillation_logits'))).toBeLessThan(TOLERANCE);
      }
      out.attentions!.forEach((a, i) => {
        expect(maxAbsDiff(a, golden.get(`attentions.${i}`)), `attention ${i}`).toBeLessThan(TOLERANCE);
      });
      tf.dispose([out.logits, out.clsLogits, out.distillationLogits, ...out.attentions!].filter((t) => t !== undefined));
    } else {
      const out = model.forwardFeatures(x, { outputAttentions: true });
      expect(maxAbsDiff(out.lastHiddenState, golden.get('last_hidden_state'))).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(out.poolerOutput!, golden.get('pooler_output'))).toBeLessThan(TOLERANCE);
      out.attentions!.forEach((a, i) => {
        expect(maxAbsDiff(a, golden.get(`attentions.${i}`)), `attention ${i}`).toBeLessThan(TOLERANCE);
      });
      tf.dispose([out.lastHiddenState, out.poolerOutput!, ...out.attentions!]);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });
});
