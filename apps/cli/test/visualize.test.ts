import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readPng } from '@vitlens/attention-viz/node';
import { initBackend, tf } from '@vitlens/core';
import type { ViTForImageClassification } from '@vitlens/vit-model';
import { loadCheckpoint } from '@vitlens/vit-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputNames, parseLayers, visualizeImages } from '../src/commands/visualize';
import { runBuiltCli, writeCorruptJpegFile, writeJpegFile, writePngFile, writeTinyCheckpoint } from './cli-fixtures';

let tmp: string;
let checkpoint: string;
let images: string;
let model: ViTForImageClassification;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-visualize-'));
  checkpoint = path.join(tmp, 'ckpt');
  await writeTinyCheckpoint(checkpoint);
  model = await loadCheckpoint(checkpoint);
  images = path.join(tmp, 'images');
  await writePngFile(path.join(images, 'cat', '0001.png'), 40, 24);
  await writeJpegFile(path.join(images, 'dog', '0001.jpg'), 32, 32);
}, 120_000);

afterAll(async () => {
  model?.dispose();
  await fs.rm(tmp, { recursive: true, force: true });
});

const defaults = { methods: ['cls', 'rollout', 'gradient'] as const, fusion: 'mean' as const, discardRatio: 0, colormap: 'viridis' as const, alpha: 0.5 };

describe('visualizeImages', () => {
  it('writes the input, an overlay per layer, rollout, gradient, the figure and the maps at the image size, without leaking tensors', async () => {
    const files = [path.join(images, 'cat', '0001.png'), path.join(images, 'dog', '0001.jpg')];
    const out = path.join(tmp, 'in-process');
    await visualizeImages(model, files.slice(1), { ...defaults, out }); // warm-up
    const before = tf.memory().numTensors;
    const results = await visualizeImages(model, files, { ...defaults, out });
    expect(tf.memory().numTensors).toBe(before);
    expect(results.map((r) => path.basename(r.outDir))).toEqual(['cat-0001', 'dog-0001']);
    const [wide] = results;
    expect(wide?.files.map((f) => path.basename(f.path))).toEqual([
      'input.png', 'cls-layer-00.png', 'cls-layer-01.png', 'rollout.png', 'gradient.png', 'figure.png', 'maps.json',
    ]);
    // 40×24 enlarged ×4 to reach 160 px: every overlay is at the original image's aspect
    for (const f of wide?.files.filter((f) => f.path.endsWith('.png') && !f.path.endsWith('figure.png')) ?? []) {
      const png = await readPng(f.path);
      expect([png.width, png.height]).toEqual([160, 96]);
    }
    const maps = JSON.parse(await fs.readFile(path.join(wide?.outDir ?? '', 'maps.json'), 'utf8'));
    expect([maps.rollout.height, maps.rollout.width]).toEqual([8, 8]); // patch 4 at 32×32
    expect(wide?.predicted?.probability).toBeGreaterThan(0);
    expect(wide?.explained?.index).toBe(wide?.predicted?.index);
  });

  it('explains a chosen class with the gradient map, and a different class gives a different map', async () => {
    const file = [path.join(images, 'dog', '0001.jpg')];
    const a = await visualizeImages(model, file, { ...defaults, methods: ['gradient'], className: 'cat', out: path.join(tmp, 'cat') });
    const b = await visualizeImages(model, file, { ...defaults, methods: ['gradient'], className: 'truck', out: path.join(tmp, 'truck') });
    expect(a[0]?.explained?.label).toBe('cat');
    const read = async (dir: string) => JSON.parse(await fs.readFile(path.join(dir, 'maps.json'), 'utf8')).gradient.data as number[];
    const catMap = await read(a[0]?.outDir ?? '');
    // on wasm (the default backend) a float32 OneHot mask once zeroed every gradient: the map must have contrast
    expect(Math.max(...catMap)).toBeGreaterThan(Math.min(...catMap));
    expect(catMap).not.toEqual(await read(b[0]?.outDir ?? ''));
  });

  it('lists the classes for an unknown --class and the layer range for a missing layer', async () => {
    const file = [path.join(images, 'dog', '0001.jpg')];
    await expect(visualizeImages(model, file, { ...defaults, className: 'unicorn', out: tmp })).rejects.toThrow(
      "--class 'unicorn' is not a class of this model; its classes are: airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck",
    );
    await expect(visualizeImages(model, file, { ...defaults, layers: [0, 2], out: tmp })).rejects.toThrow('--layers 2: the model has layers 0..1');
  });

  it('parses --layers and names outputs uniquely', () => {
    expect(parseLayers('all')).toBe('all');
    expect(parseLayers('0, 6,11,6')).toEqual([0, 6, 11]);
    expect(() => parseLayers('0,x')).toThrow("--layers expects 'all' or comma-separated layer indices ≥ 0 such as 0,6,11, got '0,x'");
    expect(outputNames(['a/cat/1.jpg', 'a/dog/1.jpg', 'b/2.png'])).toEqual(['cat-1', 'dog-1', 'b-2']);
    expect(outputNames(['x/cat/1.jpg', 'x/cat/2.jpg'])).toEqual(['1', '2']);
    // the same folder name under two parents, and one stem in two formats: a numeric suffix, in order
    expect(outputNames(['a/cat/1.jpg', 'b/cat/1.jpg', 'b/cat/1.png'])).toEqual(['cat-1', 'cat-1-2', 'cat-1-3']);
  });
});

describe('vitlens visualize (built binary)', () => {
  it('writes decodable PNGs and a labelled figure for every image in a folder', async () => {
    const out = path.join(tmp, 'cli-out');
    const { code, stdout, stderr } = await runBuiltCli([
      'visualize', '--checkpoint', checkpoint, '--image', images, '--layers', '1', '--colormap', 'turbo', '--head-fusion', 'max',
      '--discard-ratio', '0.5', '--alpha', '0.6', '--out', out,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/0001\.png: predicted \w+ \(\d+\.\d%\); 6 files in .*cat-0001 \(figure: .*figure\.png\)/);
    expect((await fs.readdir(path.join(out, 'dog-0001'))).sort()).toEqual(
      ['cls-layer-01.png', 'figure.png', 'gradient.png', 'input.png', 'maps.json', 'rollout.png'],
    );
    const figure = await readPng(path.join(out, 'dog-0001', 'figure.png'));
    expect(figure.width).toBe(12 + 4 * (160 + 12)); // input, layer 1, rollout, gradient in one row
  });

  it('draws the good images of a folder, names the corrupt JPEG on one line with why, and exits non-zero', async () => {
    const mixed = path.join(tmp, 'mixed');
    await fs.cp(images, mixed, { recursive: true });
    await writeCorruptJpegFile(path.join(mixed, 'cat', '0002.jpg'));
    const out = path.join(tmp, 'mixed-out');
    const { code, stdout, stderr } = await runBuiltCli(['visualize', '--checkpoint', checkpoint, '--image', mixed, '--method', 'rollout', '--out', out]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^vitlens: skipped .*0002\.jpg: corrupt or unsupported JPEG \(.+\)\n/);
    expect(stderr).toMatch(/\nvitlens: 1 of 3 images could not be read \(each is named above\); the other 2 were processed\n$/);
    expect(stdout.trim().split('\n').map((l) => path.basename(l.split(':')[0] as string))).toEqual(['0001.png', '0001.jpg']);
    expect((await fs.readdir(out)).sort()).toEqual(['cat-0001', 'dog-0001']);
  });

  it('explains bad flags with the valid choices', async () => {
    const base = ['visualize', '--checkpoint', checkpoint, '--image', images, '--out', path.join(tmp, 'never')];
    expect((await runBuiltCli([...base, '--method', 'flow'])).stderr).toMatch(/Allowed choices are all, cls, rollout, gradient/);
    expect((await runBuiltCli([...base, '--colormap', 'rainbow'])).stderr).toMatch(/Allowed choices are viridis, inferno, magma, plasma, turbo, jet, gray/);
    expect((await runBuiltCli([...base, '--head-fusion', 'median'])).stderr).toMatch(/Allowed choices are mean, max, min/);
    expect((await runBuiltCli([...base, '--alpha', '1.5'])).stderr).toMatch(/--alpha expects a number in \[0, 1\], got '1.5'/);
    const unknownClass = await runBuiltCli([...base, '--class', 'unicorn']);
    expect(unknownClass.code).not.toBe(0);
    expect(unknownClass.stderr).toMatch(/its classes are: airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck/);
  });
});
