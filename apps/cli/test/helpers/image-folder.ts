import fs from 'node:fs/promises';
import path from 'node:path';
import { Rng } from '@vitlens/core';
import { encodePng } from '@vitlens/attention-viz/node';

export const CLASSES = ['red', 'green', 'blue'];
/** Six classes, for tests where top-5 must be able to miss. */
export const SIX_CLASSES = [...CLASSES, 'cyan', 'magenta', 'yellow'];
/** Each class's colour before noise: its channels at 170, the others at 60. */
const COLOURS: Record<string, readonly [number, number, number]> = {
  red: [170, 60, 60],
  green: [60, 170, 60],
  blue: [60, 60, 170],
  cyan: [60, 170, 170],
  magenta: [170, 60, 170],
  yellow: [170, 170, 60],
};

/** `<root>/<split>/<class>/<n>.png`: noisy 32×32 images whose colour is the class. */
export async function writeImageFolder(root: string, split: string, perClass: number, seed: number, classes: readonly string[] = CLASSES): Promise<void> {
  const rng = new Rng(seed);
  for (const name of classes) {
    const colour = COLOURS[name];
    if (!colour) throw new Error(`writeImageFolder: no colour for class '${name}'; known: ${Object.keys(COLOURS).join(', ')}`);
    const dir = path.join(root, split, name);
    await fs.mkdir(dir, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const data = new Uint8Array(32 * 32 * 3);
      for (let p = 0; p < 32 * 32; p++) {
        for (let ch = 0; ch < 3; ch++) data[p * 3 + ch] = Math.max(0, Math.min(255, Math.round((colour[ch] as number) + rng.normal(0, 30))));
      }
      await fs.writeFile(path.join(dir, `${String(i).padStart(4, '0')}.png`), encodePng({ data, width: 32, height: 32, channels: 3 }));
    }
  }
}

/** A tiny ViT config.json for `--config` (fast enough for CLI tests on wasm). */
export async function writeTinyConfig(file: string): Promise<void> {
  await fs.writeFile(
    file,
    JSON.stringify({
      model_type: 'vit',
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      hidden_act: 'gelu',
      image_size: 32,
      patch_size: 8,
      num_channels: 3,
      qkv_bias: true,
    }),
  );
}
