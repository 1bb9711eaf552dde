import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage, initBackend, tf } from '@vitlens/core';
import type { ViTForImageClassification } from '@vitlens/vit-model';
import { loadCheckpoint } from '@vitlens/vit-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCheckpointDir, predictImages, softmax } from '../src/commands/predict';
import { ImageReadError, listImageFiles } from '../src/images';
import { runBuiltCli, writeCorruptJpegFile, writeJpegFile, writePngFile, writeTinyCheckpoint } from './cli-fixtures';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

let tmp: string;
let checkpoint: string;
let images: string;
let model: ViTForImageClassification;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-predict-'));
  checkpoint = path.join(tmp, 'ckpt');
  await writeTinyCheckpoint(checkpoint);
  model = await loadCheckpoint(checkpoint);
  images = path.join(tmp, 'images');
  await writePngFile(path.join(images, 'wide.png'), 40, 24);
  await writeJpegFile(path.join(images, 'nested', 'square.jpg'), 32, 32);
  await writePngFile(path.join(images, 'rgba.png'), 64, 48, true);
  await fs.writeFile(path.join(images, 'notes.txt'), 'not an image');
  // a folder with one corrupt JPEG between two good images
  await writeJpegFile(path.join(tmp, 'mixed', 'a.jpg'), 32, 32);
  await writeCorruptJpegFile(path.join(tmp, 'mixed', 'b-broken.jpg'));
  await writePngFile(path.join(tmp, 'mixed', 'c.png'), 40, 24);
}, 120_000);

afterAll(async () => {
  model?.dispose();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('image files', () => {
  it('expands folders to their JPEG/PNG files, sorted and recursive, and decodes any size to RGB', async () => {
    const files = await listImageFiles([images]);
    expect(files.map((f) => path.relative(images, f))).toEqual([path.join('nested', 'square.jpg'), 'rgba.png', 'wide.png']);
    const png = decodeImage(await fs.readFile(path.join(images, 'rgba.png')), 'rgba.png');
    expect([png.width, png.height, png.data.length]).toEqual([64, 48, 64 * 48 * 3]);
    expect(Array.from(png.data.slice(-3))).toEqual([255, 255, 128]); // alpha dropped, colour kept
    const jpg = decodeImage(await fs.readFile(path.join(images, 'nested', 'square.jpg')), 'square.jpg');
    expect([jpg.width, jpg.height, jpg.data.length]).toEqual([32, 32, 32 * 32 * 3]);
  });

  it('names the file that is not an image and the argument that matched nothing', async () => {
    expect(() => decodeImage(new TextEncoder().encode('not an image'), 'notes.txt')).toThrow(
      'notes.txt: not a JPEG or PNG image (expected the signature FF D8 FF or 89 50 4E 47)',
    );
    await expect(listImageFiles([path.join(tmp, 'nope')])).rejects.toThrow(/--image .*nope: no such file or folder/);
  });
});

describe('predictImages', () => {
  it('returns the top classes with probabilities from the softmax of the raw logits, without leaking tensors', async () => {
    const files = await listImageFiles([images]);
    await predictImages(model, files.slice(0, 1), 3); // warm-up: backend and kernel state
    const before = tf.memory().numTensors;
    const results = await predictImages(model, files, 3);
    expect(tf.memory().numTensors).toBe(before);
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.logits).toHaveLength(10);
      expect(r.predictions).toHaveLength(3);
      const probs = softmax(r.logits);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
      const best = probs.indexOf(Math.max(...probs));
      expect(r.predictions[0]?.index).toBe(best);
      expect(r.predictions[0]?.label).toBe(model.config.id2label[String(best)]);
      expect(r.predictions[0]?.probability).toBeCloseTo(probs[best] as number, 12);
      expect(r.predictions[0]!.probability).toBeGreaterThanOrEqual(r.predictions[1]!.probability);
    }
  });

  it('throws naming a corrupt JPEG, or with onUnreadable reports it and classifies the rest', async () => {
    const files = await listImageFiles([path.join(tmp, 'mixed')]);
    await expect(predictImages(model, files, 3)).rejects.toThrow(ImageReadError);
    await expect(predictImages(model, files, 3)).rejects.toThrow(/b-broken\.jpg: corrupt or unsupported JPEG \(.+\)/);
    const skipped: { image: string; reason: string }[] = [];
    const before = tf.memory().numTensors;
    const results = await predictImages(model, files, 3, { onUnreadable: (s) => skipped.push(s) });
    expect(tf.memory().numTensors).toBe(before);
    expect(results.map((r) => path.basename(r.image))).toEqual(['a.jpg', 'c.png']);
    expect(skipped.map((s) => path.basename(s.image))).toEqual(['b-broken.jpg']);
    expect(skipped[0]?.reason).toMatch(/^corrupt or unsupported JPEG \(.+\)$/);
  });

  it('refuses --top beyond the number of classes', async () => {
    await expect(predictImages(model, [], 11)).rejects.toThrow('--top 11: expected an integer in 1..10 (the model has 10 classes)');
  });

  it('finds the shipped default model: the copy the build puts in dist/, else <repo>/models/default', () => {
    const dir = defaultCheckpointDir();
    expect([path.join(repoRoot, 'apps', 'cli', 'dist', 'models', 'default'), path.join(repoRoot, 'models', 'default')]).toContain(dir);
    const shipped = readFileSync(path.join(repoRoot, 'models', 'default', 'model.safetensors'));
    expect(readFileSync(path.join(dir, 'model.safetensors')).equals(shipped)).toBe(true);
  });
});

describe('vitlens predict (built binary)', () => {
  it('prints JSON with label, index and probability per prediction and the raw logits; probabilities sum to 1', async () => {
    const { code, stdout, stderr } = await runBuiltCli([
      'predict', '--checkpoint', checkpoint, '--image', path.join(images, 'wide.png'), path.join(images, 'nested'), '--top', '10', '--json',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { images: { image: string; predictions: { label: string; index: number; probability: number }[]; logits: number[] }[] };
    expect(out.images.map((i) => path.basename(i.image))).toEqual(['wide.png', 'square.jpg']);
    for (const img of out.images) {
      expect(img.predictions.map((p) => Object.keys(p).sort())[0]).toEqual(['index', 'label', 'probability']);
      expect(img.predictions.reduce((s, p) => s + p.probability, 0)).toBeCloseTo(1, 5);
      expect(img.logits).toHaveLength(10);
    }
    // the same numbers as in-process
    const [inProcess] = await predictImages(model, [path.join(images, 'wide.png')], 10);
    expect(out.images[0]?.logits[0]).toBeCloseTo(inProcess?.logits[0] as number, 4);
  });

  it('prints a readable top-k list by default', async () => {
    const { code, stdout } = await runBuiltCli(['predict', '--checkpoint', checkpoint, '--image', path.join(images, 'wide.png'), '--top', '2']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/wide\.png\n {2}1\. \w+ +\d+\.\d%\n {2}2\. \w+ +\d+\.\d%\n$/);
  });

  it('prints the good images of a folder, names the corrupt JPEG on one line with why, and exits non-zero', async () => {
    const mixed = path.join(tmp, 'mixed');
    const { code, stdout, stderr } = await runBuiltCli(['predict', '--checkpoint', checkpoint, '--image', mixed, '--top', '1']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/a\.jpg\n {2}1\. \w+ +\d+\.\d%\n.*c\.png\n {2}1\. \w+ +\d+\.\d%\n$/s);
    expect(stdout).not.toMatch(/b-broken/);
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^vitlens: skipped .*b-broken\.jpg: corrupt or unsupported JPEG \(.+\)$/);
    expect(lines[1]).toBe('vitlens: 1 of 3 images could not be read (each is named above); the other 2 were processed');
    expect(lines).toHaveLength(2);
    const json = await runBuiltCli(['predict', '--checkpoint', checkpoint, '--image', mixed, '--json']);
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout) as { images: { image: string }[]; unreadable: { image: string; reason: string }[] };
    expect(out.images.map((i) => path.basename(i.image))).toEqual(['a.jpg', 'c.png']);
    expect(out.unreadable.map((u) => path.basename(u.image))).toEqual(['b-broken.jpg']);
  });

  it('explains bad flags and inputs', async () => {
    expect((await runBuiltCli(['predict', '--checkpoint', checkpoint, '--image', images, '--top', '0'])).stderr).toMatch(
      /--top expects a positive integer, got '0'/,
    );
    expect((await runBuiltCli(['predict', '--checkpoint', './no-such-checkpoint', '--image', images])).stderr).toMatch(
      /--checkpoint \.\/no-such-checkpoint: no such folder/,
    );
    expect((await runBuiltCli(['predict', '--checkpoint', checkpoint, '--image', path.join(images, 'notes.txt')])).stderr).toMatch(
      /notes\.txt: not a JPEG or PNG image/,
    );
  });
});
