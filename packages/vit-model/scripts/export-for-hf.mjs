#!/usr/bin/env node
// Writes a checkpoint with vitlens (saveCheckpoint) plus the logits and attentions vitlens computes
// for fixed inputs, so that hf_roundtrip.py can load the checkpoint with Hugging Face `transformers`
// and compare. Usage: node packages/vit-model/scripts/export-for-hf.mjs <out-dir>   (after `pnpm build`)
import fs from 'node:fs';
import path from 'node:path';
import { Rng, initBackend, tf } from '@vitlens/core';
import { ViTForImageClassification, createConfig } from '@vitlens/vit-model';
import { saveCheckpoint } from '@vitlens/vit-model/node';

const out = process.argv[2] ?? '.device/vitlens-export';
await initBackend({ prefer: 'wasm' });
const model = ViTForImageClassification.create(createConfig('vit-mini-patch4-32'), { seed: 'device-check' });
await saveCheckpoint(model, path.join(out, 'checkpoint'));

const rng = new Rng('device-check-inputs');
const shape = [3, 32, 32, 3]; // [B, H, W, C] (NHWC, preprocessed)
const pixels = rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b)));
const x = tf.tensor4d(pixels, shape);
const { logits, attentions } = model.forward(x, { outputAttentions: true });
const result = {
  inputShapeNHWC: shape,
  inputs: Array.from(pixels),
  logits: Array.from(logits.dataSync()),
  logitsShape: logits.shape,
  lastAttention: Array.from(attentions.at(-1).dataSync()),
  lastAttentionShape: attentions.at(-1).shape,
};
fs.writeFileSync(path.join(out, 'vitlens-outputs.json'), JSON.stringify(result));
tf.dispose([x, logits, ...attentions]);
console.log(`wrote ${out}`);
