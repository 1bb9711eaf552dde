import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@vitlens/core';
import { createConfig, ViTForImageClassification } from '@vitlens/vit-model';
import { loadCheckpoint, saveCheckpoint } from '@vitlens/vit-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from './cli-fixtures';

const shippedState = fileURLToPath(new URL('../../../models/default/trainer_state.json', import.meta.url));
const NAME = 'vit.encoder.layer.1.output.dense.weight';
let tmp: string;

/** A tiny random checkpoint of one model (2 layers of vit-mini), at `imageSize`, from `seed`. */
async function tinyCheckpoint(name: string, seed: number, overrides: Record<string, unknown> = {}): Promise<string> {
  const dir = path.join(tmp, name);
  const model = ViTForImageClassification.create(createConfig('vit-mini-patch4-32', { num_hidden_layers: 2, ...overrides }), { seed });
  try {
    await saveCheckpoint(model, dir);
  } finally {
    model.dispose();
  }
  return dir;
}

/** A trainer_state.json (the shipped model's) recording `seed` and `valPerClass` as the held-out split. */
async function recordSplit(dir: string, valPerClass: number, seed: number): Promise<void> {
  const state = JSON.parse(await fs.readFile(shippedState, 'utf8'));
  await fs.writeFile(path.join(dir, 'trainer_state.json'), JSON.stringify({ ...state, config: { ...state.config, valPerClass, seed } }));
}

async function param(dir: string, name = NAME): Promise<Float32Array> {
  const model = await loadCheckpoint(dir);
  try {
    return Float32Array.from(model.params.get(name)!.dataSync());
  } finally {
    model.dispose();
  }
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-average-'));
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('vitlens average (built binary)', () => {
  it('writes the weighted mean of the checkpoints, with average.json saying from what', async () => {
    const sources = await Promise.all([1, 2, 3].map((seed) => tinyCheckpoint(`seed-${seed}`, seed)));
    for (const dir of sources) await recordSplit(dir, 500, 42);
    const out = path.join(tmp, 'soup');
    const r = await runBuiltCli(['average', ...sources, '--out', out, '--weights', '2,1,1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [a, b, c, soup] = await Promise.all([...sources, out].map((dir) => param(dir)));
    soup!.forEach((v, i) => {
      expect(v).toBeCloseTo(0.5 * a![i]! + 0.25 * b![i]! + 0.25 * c![i]!, 6);
    });
    const record = JSON.parse(await fs.readFile(path.join(out, 'average.json'), 'utf8'));
    expect(JSON.parse(r.stdout)).toEqual(record);
    expect(record).toMatchObject({ format: 'vitlens-average', version: 1, imageSize: 32, heldOut: { valPerClass: 500, seed: 42 } });
    expect(record.sources.map((s: { checkpoint: string; weight: number; trainedImageSize: number }) => [s.checkpoint, s.weight, s.trainedImageSize])).toEqual([
      [sources[0], 0.5, 32],
      [sources[1], 0.25, 32],
      [sources[2], 0.25, 32],
    ]);
    // random models are far from their mean; the one that counts twice is nearest
    const distances = record.sources.map((s: { distance: number }) => s.distance);
    expect(Math.min(...distances)).toBeGreaterThan(0.1);
    expect(distances[0]).toBeLessThan(Math.min(distances[1], distances[2]));
    expect(r.stderr).toMatch(/share 50\.0%, \d+\.\d\d% of the average's norm from it\n/);
    expect(r.stderr).toContain(`averaged 3 checkpoints at 32×32 into ${out}`);
    expect((await fs.readdir(out)).sort()).toEqual(['average.json', 'config.json', 'model.safetensors', 'preprocessor_config.json']);
  }, 60_000);

  it("loads every checkpoint at the first one's image size (or --image-size), resizing position embeddings", async () => {
    const small = await tinyCheckpoint('size-32', 4);
    const large = await tinyCheckpoint('size-40', 5, { image_size: 40 });
    const out = path.join(tmp, 'sized');
    const r = await runBuiltCli(['average', small, large, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${large}: share 50.0%`);
    expect(r.stderr).toContain('trained at 40×40');
    const record = JSON.parse(await fs.readFile(path.join(out, 'average.json'), 'utf8'));
    expect(record.imageSize).toBe(32);
    expect(record.sources.map((s: { trainedImageSize: number }) => s.trainedImageSize)).toEqual([32, 40]);
    // 8×8 patches and CLS at 32×32, 10×10 and CLS at 40×40
    const { hidden_size: hidden } = JSON.parse(await fs.readFile(path.join(out, 'config.json'), 'utf8'));
    expect((await param(out, 'vit.embeddings.position_embeddings')).length).toBe(65 * hidden);
    const at40 = path.join(tmp, 'sized-40');
    const r40 = await runBuiltCli(['average', small, large, '--out', at40, '--image-size', '40']);
    expect(r40.code, r40.stderr).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(at40, 'config.json'), 'utf8')).image_size).toBe(40);
    expect((await param(at40, 'vit.embeddings.position_embeddings')).length).toBe(101 * hidden);
    // no training state among the sources: no split recorded, and it says why
    expect(record.heldOut).toBeNull();
    expect(r.stderr).toContain(`note: average.json records no held-out split: ${small} does not record the images its training held out`);
  }, 60_000);

  it('records no held-out split when the sources held out different images, and says which', async () => {
    const first = await tinyCheckpoint('split-a', 6);
    const second = await tinyCheckpoint('split-b', 7);
    await recordSplit(first, 500, 42);
    await recordSplit(second, 500, 7);
    const out = path.join(tmp, 'mixed-splits');
    const r = await runBuiltCli(['average', first, second, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(out, 'average.json'), 'utf8')).heldOut).toBeNull();
    expect(r.stderr).toContain(
      `the sources held out different images (${path.join(first, 'trainer_state.json')}: 500 per class, seed 42; ${path.join(second, 'trainer_state.json')}: 500 per class, seed 7)`,
    );
  }, 60_000);

  it('refuses other models, bad weights, one checkpoint and a folder that holds a checkpoint, naming what is wrong', async () => {
    const a = await tinyCheckpoint('refuse-a', 1);
    const wide = await tinyCheckpoint('refuse-wide', 1, { hidden_size: 32, intermediate_size: 64 });
    const cases: [string[], RegExp][] = [
      [[a, wide], new RegExp(`${wide}: the shape of \\S+ is \\[[\\d,]+\\], but ${a}'s is \\[[\\d,]+\\]; only checkpoints of one model can be averaged`)],
      [[a], /average: expected at least 2 checkpoints, got 1/],
      [[a, a, '--weights', '1,2,3'], /--weights: expected one weight per checkpoint \(2\), got 3/],
      [[a, a, '--weights', '1,-1'], /expected comma-separated numbers ≥ 0 \(one per checkpoint, e\.g\. 1,1,2\), got '1,-1'/],
      [[a, a, '--weights', '0,0'], /at least one weight must be above 0, got '0,0'/],
      [[a, a, '--image-size', '0'], /--image-size expects a positive integer, got '0'/],
      [[a, path.join(tmp, 'no-such-checkpoint')], /no-such-checkpoint' is not a folder, an http\(s\) URL or a Hugging Face Hub id/],
    ];
    for (const [args, message] of cases) {
      const out = path.join(tmp, 'refused');
      const r = await runBuiltCli(['average', ...args, '--out', out]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
      await expect(fs.access(out)).rejects.toThrow(); // nothing written
    }
    const taken = path.join(tmp, 'taken');
    await fs.mkdir(taken);
    await fs.writeFile(path.join(taken, 'model.safetensors'), 'mine');
    const r = await runBuiltCli(['average', a, a, '--out', taken]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--out .*taken already holds a checkpoint \(model\.safetensors\); choose a new folder \(nothing was written\)/);
    expect(await fs.readFile(path.join(taken, 'model.safetensors'), 'utf8')).toBe('mine');
  }, 90_000);
});
