import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPng } from '@vitlens/attention-viz/node';
import { initBackend, tf } from '@vitlens/core';
import type { VisionTransformer } from '@vitlens/vit-model';
import { loadCheckpoint } from '@vitlens/vit-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visualizeImages } from '../src/commands/visualize';
import { runBuiltCli, writePngFile } from './cli-fixtures';

// The small DeiT and DINO-layout checkpoints of packages/vit-model/test/fixtures (random weights).
const fixture = (name: string) => fileURLToPath(new URL(`../../../packages/vit-model/test/fixtures/${name}`, import.meta.url));
const DEIT = fixture('tiny-deit-distilled');
const DINO = fixture('tiny-dino');

let tmp: string;
let image: string;
let deit: VisionTransformer;
let dino: VisionTransformer;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-layouts-'));
  image = path.join(tmp, 'images', 'photo.png');
  await writePngFile(image, 48, 40);
  deit = await loadCheckpoint(DEIT);
  dino = await loadCheckpoint(DINO);
}, 120_000);

afterAll(async () => {
  deit?.dispose();
  dino?.dispose();
  await fs.rm(tmp, { recursive: true, force: true });
});

const defaults = { methods: ['cls', 'rollout', 'gradient'] as const, fusion: 'mean' as const, discardRatio: 0, colormap: 'viridis' as const, alpha: 0.5 };

describe('visualize with your own checkpoint', () => {
  it('DeiT with teacher: maps from the CLS and from the distillation token, without leaking tensors', async () => {
    await visualizeImages(deit, [image], { ...defaults, out: path.join(tmp, 'warm') });
    const before = tf.memory().numTensors;
    const [r] = await visualizeImages(deit, [image], { ...defaults, out: path.join(tmp, 'deit') });
    expect(tf.memory().numTensors).toBe(before);
    expect(r?.predicted?.label).toMatch(/^class[0-4]$/);
    expect((await fs.readdir(r!.outDir)).sort()).toEqual([
      'cls-layer-00.png', 'cls-layer-01.png', 'distillation-layer-00.png', 'distillation-layer-01.png', 'figure.png',
      'gradient-distillation.png', 'gradient.png', 'input.png', 'maps.json', 'rollout-distillation.png', 'rollout.png',
    ]);
    const maps = JSON.parse(await fs.readFile(path.join(r!.outDir, 'maps.json'), 'utf8'));
    expect([maps.rollout.height, maps.rollout.width]).toEqual([4, 4]); // patch 8 at 32×32, both special tokens left out
    expect(maps['rollout-distillation'].data).not.toEqual(maps.rollout.data);
  });

  it('a headless ViTModel (DINO): every head of every layer, DINO\'s 60% view, and a gradient map of the CLS embedding\'s norm', async () => {
    const [r] = await visualizeImages(dino, [image], { ...defaults, out: path.join(tmp, 'dino') });
    expect(r?.predicted).toBeUndefined();
    expect(r?.embeddingNorm).toBeGreaterThan(0);
    expect((await fs.readdir(r!.outDir)).sort()).toEqual([
      'cls-layer-00.png', 'cls-layer-01.png', 'dino-head-00.png', 'dino-head-01.png', 'figure.png', 'gradient.png', 'heads.png',
      'input.png', 'maps.json', 'rollout.png',
    ]);
    const maps = JSON.parse(await fs.readFile(path.join(r!.outDir, 'maps.json'), 'utf8'));
    expect(Object.keys(maps).filter((k) => k.startsWith('heads-'))).toEqual([
      'heads-layer-00-head-00', 'heads-layer-00-head-01', 'heads-layer-01-head-00', 'heads-layer-01-head-01',
    ]);
    expect(new Set(maps['dino-head-00'].data)).toEqual(new Set([0, 1])); // a mask
    const heads = await readPng(path.join(r!.outDir, 'heads.png'));
    expect(heads.width).toBe(12 + 2 * (192 + 12)); // one column per head; the 48×40 image is drawn 4× (192×160)
    await expect(visualizeImages(dino, [image], { ...defaults, className: 'cat', out: path.join(tmp, 'never') })).rejects.toThrow(
      "--class 'cat': this ViTModel has no classifier; its gradient map explains the norm of the CLS embedding",
    );
    await expect(visualizeImages(dino, [image], { ...defaults, token: 'distillation', out: path.join(tmp, 'never') })).rejects.toThrow(
      '--token distillation: this ViTModel has no distillation token (only DeiT has one)',
    );
  });
});

describe('vitlens predict / visualize (built binary) with DeiT and DINO checkpoints', () => {
  it('predict says plainly that a DINO checkpoint has no classifier, and prints its CLS embedding with --json', async () => {
    const plain = await runBuiltCli(['predict', '--checkpoint', DINO, '--image', image]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toMatch(/this ViTModel has no classifier \(a headless encoder such as DINO gives an embedding, not classes\)\. `--json` prints each image's CLS embedding \(32 numbers\)/);
    const json = await runBuiltCli(['predict', '--checkpoint', DINO, '--image', image, '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.model).toEqual({ architecture: 'ViTModel', hasClassifier: false });
    expect(parsed.images[0].clsEmbedding).toHaveLength(32);
    expect(parsed.images[0].poolerOutput).toHaveLength(32);
  });

  it('predict classifies with a DeiT checkpoint (the mean of its two heads)', async () => {
    const { code, stdout } = await runBuiltCli(['predict', '--checkpoint', DEIT, '--image', image, '--top', '2']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/photo\.png\n {2}1\. class[0-4] +\d+\.\d%\n {2}2\. class[0-4]/);
  });

  it('visualize --heads all draws every head of every layer for a classifier too', async () => {
    const out = path.join(tmp, 'cli-heads');
    const { code, stdout, stderr } = await runBuiltCli(['visualize', '--checkpoint', DEIT, '--image', image, '--heads', 'all', '--token', 'cls', '--out', out]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/photo\.png: predicted class[0-4] \(\d+\.\d%\); 8 files in /);
    expect(await fs.readdir(path.join(out, 'photo'))).toContain('heads.png');
  });
});
