import { type BackendName, Rng } from '@vitlens/core';
import type { ImageDataset } from '@vitlens/cifar10-data';
import { type ViTConfig, createConfig } from '@vitlens/vit-model';

export const TINY_CLASSES = ['red', 'green', 'blue'];

/** A ViT small enough for exact-resume tests on the cpu backend: 8×8 images, 4 patches, 1 layer. */
export function tinyConfig(overrides: Partial<ViTConfig> = {}): ViTConfig {
  return createConfig('vit-mini-patch4-32', {
    hidden_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 32,
    image_size: 8,
    patch_size: 4,
    id2label: Object.fromEntries(TINY_CLASSES.map((n, i) => [String(i), n])),
    ...overrides,
  });
}

/** Noisy 8×8 images whose dominant channel is the class: learnable, but not trivially separable at step 0. */
export function syntheticDataset(perClass: number, seed = 1, size = 8): ImageDataset {
  const rng = new Rng(seed);
  const count = perClass * TINY_CLASSES.length;
  const images = new Uint8Array(count * size * size * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % TINY_CLASSES.length;
    labels[i] = label;
    for (let p = 0; p < size * size; p++) {
      for (let c = 0; c < 3; c++) {
        const base = c === label ? 150 : 70;
        images[(i * size * size + p) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + rng.normal(0, 40))));
      }
    }
  }
  return { images, labels, classNames: [...TINY_CLASSES], count, height: size, width: size, source: 'synthetic' };
}

/**
 * The backend a test file runs on: its own default, or `VITLENS_TEST_BACKEND` when the vitest project
 * `tensorflow` reruns the file on the native backend (see vitest.shared.ts).
 */
export function testBackend(fallback: BackendName): BackendName {
  const name = process.env.VITLENS_TEST_BACKEND;
  return name ? (name as BackendName) : fallback;
}
