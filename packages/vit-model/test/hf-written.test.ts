import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initBackend, readSafetensors, tensorToFloat32, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelFromFiles } from '../src';

// fixtures/hf-written was written by the real Hugging Face `transformers` 5.17
// (ViTForImageClassification(config).save_pretrained, with golden outputs for fixed inputs) by
// scripts/hf_roundtrip.py on a machine that has transformers; see hf-roundtrip-report.json.
const dir = fileURLToPath(new URL('./fixtures/hf-written/', import.meta.url));
const TOLERANCE = 1e-4;

function load() {
  return modelFromFiles({
    config: JSON.parse(fs.readFileSync(`${dir}config.json`, 'utf8')),
    weights: new Uint8Array(fs.readFileSync(`${dir}model.safetensors`)),
    source: dir,
  });
}

const golden = readSafetensors(new Uint8Array(fs.readFileSync(`${dir}golden.safetensors`))).tensors;
const goldenValues = (name: string) => tensorToFloat32(golden.get(name)!);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.each(['cpu', 'wasm', 'tensorflow'] as const)('a checkpoint saved by Hugging Face transformers, on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  it('loads and reproduces transformers’ logits and every attention map to 1e-4', () => {
    const model = load();
    expect(model.config.hidden_size).toBe(48);
    const before = tf.memory().numTensors;
    const nchw = golden.get('pixel_values_nchw')!;
    const x = tf.tidy(() =>
      // [B, C, H, W] (PyTorch layout) → [B, H, W, C] (vitlens input)
      tf.transpose(tf.tensor4d(tensorToFloat32(nchw), nchw.shape as [number, number, number, number]), [0, 2, 3, 1]),
    ) as tf.Tensor4D;
    const out = model.forward(x, { outputAttentions: true });
    expect(maxAbsDiff(out.logits.dataSync() as Float32Array, goldenValues('logits'))).toBeLessThan(TOLERANCE);
    expect(out.attentions).toHaveLength(2);
    out.attentions!.forEach((a, i) => {
      expect(maxAbsDiff(a.dataSync() as Float32Array, goldenValues(`attentions.${i}`)), `attention ${i}`).toBeLessThan(TOLERANCE);
    });
    tf.dispose([x, out.logits, ...out.attentions!]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
