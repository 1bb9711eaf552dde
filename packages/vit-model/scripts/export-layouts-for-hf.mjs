#!/usr/bin/env node
// vitlens → transformers, for every layout: writes checkpoints saved by vitlens (each layout fixture
// loaded and saved back, and a freshly created model of each architecture) with the outputs vitlens
// computes for fixed inputs, for check_layouts_with_transformers.py to load with `from_pretrained`.
// Usage: node packages/vit-model/scripts/export-layouts-for-hf.mjs <out-dir>   (after `pnpm build`)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, initBackend, tf } from '@vitlens/core';
import { VisionTransformer, createConfig } from '@vitlens/vit-model';
import { loadCheckpoint, saveCheckpoint } from '@vitlens/vit-model/node';

const out = process.argv[2] ?? '.device/vitlens-layouts-export';
const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
await initBackend({ prefer: 'cpu' });

const tiny = (overrides) =>
  createConfig('vit-mini-patch4-32', {
    hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, patch_size: 8,
    id2label: { 0: 'a', 1: 'b', 2: 'c' }, initializer_range: 0.2, ...overrides,
  });
const models = [];
for (const name of ['tiny-deit-distilled', 'tiny-deit', 'tiny-dino', 'tiny-dino-s8-224']) {
  models.push({ name: `reloaded-${name}`, model: await loadCheckpoint(path.join(fixtures, name)) });
}
models.push({ name: 'created-DeiTForImageClassificationWithTeacher', model: VisionTransformer.create(tiny({ model_type: 'deit', architectures: ['DeiTForImageClassificationWithTeacher'] }), { seed: 'hf' }) });
models.push({ name: 'created-ViTModel', model: VisionTransformer.create(tiny({ architectures: ['ViTModel'] }), { seed: 'hf' }) });

const manifest = [];
for (const { name, model } of models) {
  const dir = path.join(out, name);
  await saveCheckpoint(model, dir);
  const size = model.config.image_size;
  const shape = [1, size, size, 3]; // [B, H, W, C] (NHWC, preprocessed)
  const pixels = new Rng(`hf:${name}`).fillNormal(new Float32Array(shape.reduce((a, b) => a * b)));
  const x = tf.tensor4d(pixels, shape);
  const result = { name, architecture: model.architecture, inputShapeNHWC: shape, inputs: Array.from(pixels) };
  if (model.hasClassifier) {
    const o = model.forward(x, { outputAttentions: true });
    result.logits = Array.from(o.logits.dataSync());
    result.lastAttention = Array.from(o.attentions.at(-1).dataSync());
    tf.dispose([o.logits, ...o.attentions]);
  } else {
    const o = model.forwardFeatures(x, { outputAttentions: true });
    result.lastHiddenState = Array.from(o.lastHiddenState.dataSync());
    if (o.poolerOutput) result.poolerOutput = Array.from(o.poolerOutput.dataSync());
    result.lastAttention = Array.from(o.attentions.at(-1).dataSync());
    tf.dispose([o.lastHiddenState, o.poolerOutput, ...o.attentions].filter(Boolean));
  }
  fs.writeFileSync(path.join(dir, 'vitlens-outputs.json'), JSON.stringify(result));
  manifest.push({ name, architecture: model.architecture });
  x.dispose();
  model.dispose();
}
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
console.log(`wrote ${manifest.length} checkpoints to ${out}`);
