import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, tensorToFloat32, tf } from '@vitlens/core';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function fixtureFiles(name: string): { config: unknown; processor: unknown; weights: Uint8Array; source: string } {
  const dir = path.join(FIXTURES, name);
  return {
    config: JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')),
    processor: JSON.parse(fs.readFileSync(path.join(dir, 'preprocessor_config.json'), 'utf8')),
    weights: new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))),
    source: dir,
  };
}

/** The golden tensors written by scripts/make_golden.py, as float32 arrays with shapes. */
export function golden(): Map<string, { shape: number[]; data: Float32Array }> {
  const { tensors } = readSafetensors(new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'golden.safetensors'))));
  return new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: tensorToFloat32(t) }]));
}

export function goldenTensor(g: ReturnType<typeof golden>, key: string): tf.Tensor {
  const t = g.get(key);
  if (!t) throw new Error(`golden.safetensors has no '${key}'`);
  return tf.tensor(t.data, t.shape, 'float32');
}

/** Largest absolute difference between a tensor and a golden array (shapes must agree). */
export function maxAbsDiff(actual: tf.Tensor, expected: { shape: number[]; data: Float32Array } | undefined): number {
  if (!expected) throw new Error('missing golden tensor');
  if (actual.shape.join(',') !== expected.shape.join(',')) {
    throw new Error(`shape [${actual.shape.join(', ')}] differs from golden [${expected.shape.join(', ')}]`);
  }
  const a = actual.dataSync();
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - expected.data[i]!));
  return max;
}
