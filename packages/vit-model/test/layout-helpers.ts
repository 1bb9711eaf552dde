import fs from 'node:fs';
import path from 'node:path';
import { readSafetensors, tensorToFloat32, type tf } from '@vitlens/core';
import { expect } from 'vitest';
import { FIXTURES } from './helpers';

/** Backends the golden tests run on: the JS ones and the native TensorFlow one (as golden.test.ts). */
export const GOLDEN_BACKENDS = ['cpu', 'wasm', 'tensorflow'] as const;

export type Golden = Map<string, { shape: number[]; data: Float32Array }>;

/** The golden.safetensors that scripts/make_golden_layouts.py writes next to a fixture checkpoint. */
export function fixtureGolden(name: string): Golden {
  const { tensors } = readSafetensors(new Uint8Array(fs.readFileSync(path.join(FIXTURES, name, 'golden.safetensors'))));
  return new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: tensorToFloat32(t) }]));
}

/** Largest |a − b| relative to the reference's largest magnitude (for gradients, which vary in scale). */
export function scaledDiff(actual: tf.Tensor, expected: { shape: number[]; data: Float32Array } | undefined): { diff: number; scale: number } {
  if (!expected) throw new Error('missing golden tensor');
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - expected.data[i]!));
    scale = Math.max(scale, Math.abs(expected.data[i]!));
  }
  return { diff, scale };
}

/** Each layer's d target / d attention matches the reference, relative to its largest entry (float32 vs float64). */
export function expectAttentionGradients(gradients: readonly tf.Tensor[], golden: Golden): void {
  gradients.forEach((g, i) => {
    const { diff, scale } = scaledDiff(g, golden.get(`grad.attentions.${i}`));
    expect(diff, `layer ${i} (largest |gradient| ${scale})`).toBeLessThan(1e-6 + 1e-4 * scale);
  });
}
