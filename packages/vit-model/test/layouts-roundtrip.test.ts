import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend, readSafetensors, tensorToFloat32, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURES, createConfig, modelFromFiles, modelToFiles, parseProcessorConfig, processorToPreprocessOptions } from '../src';
import { DeiTForImageClassification, DeiTForImageClassificationWithTeacher, DeiTModel, ViTForImageClassification, ViTModel, VisionTransformer } from '../src/model';
import { loadCheckpoint, saveCheckpoint } from '../src/node';
import { FIXTURES, fixtureFiles } from './helpers';

const LAYOUT_FIXTURES = {
  'tiny-deit-distilled': DeiTForImageClassificationWithTeacher,
  'tiny-deit': DeiTForImageClassification,
  'tiny-dino': ViTModel,
  'tiny-dino-s8-224': ViTModel,
  'tiny-vit': ViTForImageClassification,
} as const;

function tensorsOf(weights: Uint8Array): Map<string, { shape: number[]; data: Float32Array }> {
  return new Map([...readSafetensors(weights).tensors].map(([k, t]) => [k, { shape: t.shape, data: tensorToFloat32(t) }]));
}

const tiny = (overrides: Parameters<typeof createConfig>[1] = {}) =>
  createConfig('vit-mini-patch4-32', {
    hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, image_size: 16, patch_size: 4,
    id2label: { 0: 'a', 1: 'b', 2: 'c' }, initializer_range: 0.2, ...overrides,
  });

describe('every layout both ways', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it.each(Object.entries(LAYOUT_FIXTURES))('%s saves back to its own layout: the same keys, shapes and values', (name, Class) => {
    const files = fixtureFiles(name);
    const model = modelFromFiles(files);
    expect(model).toBeInstanceOf(Class);
    const saved = modelToFiles(model);
    const original = tensorsOf(files.weights);
    const written = tensorsOf(saved.weights);
    expect([...written.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [key, t] of original) {
      expect(written.get(key)!.shape, key).toEqual(t.shape);
      const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      expect(bytes(written.get(key)!.data).equals(bytes(t.data)), key).toBe(true);
    }
    expect(saved.config.architectures).toEqual([model.architecture]);
    expect(saved.config.model_type).toBe((files.config as { model_type: string }).model_type);
    const again = modelFromFiles({ config: saved.config, processor: saved.processor, weights: saved.weights });
    expect(again.architecture).toBe(model.architecture);
    expect(again.processor).toEqual(model.processor);
    model.dispose();
    again.dispose();
  });

  it.each(ARCHITECTURES)('a freshly created %s saves and reloads as itself with the same outputs', async (architecture) => {
    const config = tiny({ model_type: architecture.startsWith('DeiT') ? 'deit' : 'vit', architectures: [architecture] });
    const model = VisionTransformer.create(config, { seed: 9 });
    expect(model.architecture).toBe(architecture);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitlens-layout-'));
    await saveCheckpoint(model, dir);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.constructor).toBe(model.constructor);
    expect([...loaded.params.keys()]).toEqual([...model.params.keys()]);
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const run = (m: VisionTransformer) => tf.tidy(() => (m.hasClassifier ? m.forward(x).logits : m.forwardFeatures(x).lastHiddenState).arraySync());
    expect(run(loaded)).toEqual(run(model));
    tf.dispose(x);
    model.dispose();
    loaded.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names the HF keys of each layout: deit. prefix and distillation token; bare keys and a pooler for ViTModel', () => {
    const deit = DeiTForImageClassificationWithTeacher.create(tiny({ model_type: 'deit' }));
    expect([...deit.params.keys()].filter((k) => !k.includes('.layer.'))).toEqual([
      'deit.embeddings.cls_token',
      'deit.embeddings.position_embeddings',
      'deit.embeddings.distillation_token',
      'deit.embeddings.patch_embeddings.projection.weight',
      'deit.embeddings.patch_embeddings.projection.bias',
      'deit.layernorm.weight',
      'deit.layernorm.bias',
      'cls_classifier.weight',
      'cls_classifier.bias',
      'distillation_classifier.weight',
      'distillation_classifier.bias',
    ]);
    expect(deit.params.get('deit.embeddings.position_embeddings')!.shape).toEqual([1, 18, 16]); // 2 + 4×4
    const bare = ViTModel.create(tiny());
    expect([...bare.params.keys()].filter((k) => !k.includes('.layer.'))).toEqual([
      'embeddings.cls_token',
      'embeddings.position_embeddings',
      'embeddings.patch_embeddings.projection.weight',
      'embeddings.patch_embeddings.projection.bias',
      'layernorm.weight',
      'layernorm.bias',
      'pooler.dense.weight',
      'pooler.dense.bias',
    ]);
    expect([...DeiTModel.create(tiny({ model_type: 'deit' }), { pooler: false }).params.keys()].some((k) => k.startsWith('pooler.'))).toBe(false);
    expect(() => DeiTModel.create(tiny())).toThrow(/DeiTModel.create: config.model_type must be "deit", got "vit"/);
    deit.dispose();
    bare.dispose();
  });

  it('gives a headless backbone its family\'s classifier when labels are given (DINO → fine-tuning)', () => {
    const labels = { 0: 'cat', 1: 'dog' };
    const vit = modelFromFiles(fixtureFiles('tiny-dino'), { id2label: labels, seed: 2 });
    expect(vit).toBeInstanceOf(ViTForImageClassification);
    expect(vit.initializedFromSeed.sort()).toEqual(['classifier.bias', 'classifier.weight']);
    expect([...vit.params.keys()].some((k) => k.startsWith('vit.pooler'))).toBe(false);
    const deit = modelFromFiles(fixtureFiles('tiny-deit-distilled'), { id2label: labels, seed: 2 });
    expect(deit).toBeInstanceOf(DeiTForImageClassificationWithTeacher);
    expect(deit.initializedFromSeed.sort()).toEqual(['cls_classifier.bias', 'cls_classifier.weight', 'distillation_classifier.bias', 'distillation_classifier.weight']);
    expect(() => modelFromFiles(fixtureFiles('tiny-dino')).replaceHead(labels)).toThrow(/replaceHead: this ViTModel has no classifier/);
    vit.dispose();
    deit.dispose();
  });

  it('infers the layout from the keys when config.json names no architecture', () => {
    for (const [name, Class] of Object.entries(LAYOUT_FIXTURES)) {
      const files = fixtureFiles(name);
      const { architectures: _drop, ...config } = files.config as Record<string, unknown>;
      const model = modelFromFiles({ ...files, config });
      expect(model, name).toBeInstanceOf(Class);
      model.dispose();
    }
  });

  it('lists the keys of another layout as unexpected, naming the architecture it expected', () => {
    const files = fixtureFiles('tiny-deit-distilled');
    const config = { ...(files.config as object), architectures: ['DeiTForImageClassification'] };
    expect(() => modelFromFiles({ ...files, config })).toThrow(
      /does not match .*config\.json \(DeiTForImageClassification, hidden_size 32, 2 layers, qkv_bias true\): unexpected keys: cls_classifier\.weight, cls_classifier\.bias, distillation_classifier\.weight/,
    );
    const vit = { ...(files.config as object), model_type: 'vit' };
    expect(() => modelFromFiles({ ...files, config: vit })).toThrow(/architectures names DeiTForImageClassificationWithTeacher, which is a "deit" model, but model_type is "vit"/);
  });

  it('reads DeiT\'s processor (resize 256 → centre crop 224, bicubic, ImageNet statistics) and crops the centre', () => {
    const config = tiny({ model_type: 'deit', image_size: 224, patch_size: 16 });
    const p = parseProcessorConfig(
      { feature_extractor_type: 'DeiTFeatureExtractor', size: 256, crop_size: 224, do_center_crop: true, resample: 3, image_mean: [0.485, 0.456, 0.406], image_std: [0.229, 0.224, 0.225] },
      config,
    );
    expect(p).toMatchObject({ image_processor_type: 'DeiTImageProcessor', size: { height: 256, width: 256 }, crop_size: { height: 224, width: 224 }, do_center_crop: true });
    expect(processorToPreprocessOptions(p)).toMatchObject({ resize: { height: 256, width: 256 }, centerCrop: { height: 224, width: 224 } });
    expect(parseProcessorConfig({ image_processor_type: 'DeiTImageProcessor' }, config)).toMatchObject({ size: { height: 256, width: 256 }, crop_size: { height: 224, width: 224 }, resample: 3 });
    expect(() => parseProcessorConfig({ image_processor_type: 'ConvNextImageProcessor' }, config)).toThrow(/must be "ViTImageProcessor" or "DeiTImageProcessor", got "ConvNextImageProcessor"/);
  });

  it('offline, a DeiT or DINO hub id fails with where to put the files', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitlens-hub-'));
    for (const id of ['facebook/dino-vits16', 'facebook/deit-base-distilled-patch16-224']) {
      await expect(loadCheckpoint(id, { cacheDir, hubEndpoint: 'http://127.0.0.1:9' })).rejects.toThrow(
        new RegExp(`could not download http://127.0.0.1:9/${id}/resolve/main/config.json .*To use ${id} offline, put config.json, preprocessor_config.json and model.safetensors in .*${id.replace('/', '--')}`),
      );
    }
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });
});

describe('FIXTURES sanity', () => {
  it('the layout fixtures are small', () => {
    for (const name of Object.keys(LAYOUT_FIXTURES)) {
      const dir = path.join(FIXTURES, name);
      const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
      expect(bytes, name).toBeLessThan(250_000);
    }
  });
});
