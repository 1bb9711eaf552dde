import path from 'node:path';
import { attentionRollout, clsAttention, gradientAttention } from '@vitlens/attention-viz';
import { type RgbImage, initBackend, pixelsToTensor, tf } from '@vitlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ViTPipeline, geometry, load, modelFromFiles, processorToPreprocessOptions } from '../src';
import { FIXTURES, fixtureFiles } from './helpers';

/** A deterministic RGB image of any size. */
function image(width: number, height: number, seed = 1): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 101 + ((i * i) % 251)) % 256;
  return { data, width, height };
}

function rgba(rgb: RgbImage): { data: Uint8ClampedArray; width: number; height: number } {
  const data = new Uint8ClampedArray(rgb.width * rgb.height * 4);
  for (let p = 0; p < rgb.width * rgb.height; p++) {
    data.set(rgb.data.subarray(p * 3, p * 3 + 3), p * 4);
    data[p * 4 + 3] = 255;
  }
  return { data, width: rgb.width, height: rgb.height };
}

let vit: ViTPipeline;
let dino: ViTPipeline;
let deit: ViTPipeline;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  vit = await load(path.join(FIXTURES, 'tiny-vit'));
  dino = await load(path.join(FIXTURES, 'tiny-vit-headless'));
  deit = await load(fixtureFiles('tiny-deit'));
});

afterAll(() => {
  for (const p of [vit, dino, deit]) p?.dispose();
});

describe('geometry', () => {
  it('derives the patch grid, the prefix tokens and T from a config', () => {
    expect(geometry({ model_type: 'vit', image_size: 224, patch_size: 16 })).toEqual({ gridHeight: 14, gridWidth: 14, numPatches: 196, prefixTokens: 1, tokens: 197 });
    expect(geometry({ model_type: 'deit', image_size: 224, patch_size: 16 })).toEqual({ gridHeight: 14, gridWidth: 14, numPatches: 196, prefixTokens: 2, tokens: 198 });
    expect(geometry({ image_size: 32, patch_size: 4 }).tokens).toBe(65);
    expect(vit.geometry).toEqual(geometry(vit.config));
  });
});

describe('load', () => {
  it('loads a folder, checkpoint files or a model, and says what it got', async () => {
    expect(vit.source).toBe(path.join(FIXTURES, 'tiny-vit'));
    expect(vit.hasClassifier).toBe(true);
    expect(vit.labels).toHaveLength(10);
    expect(dino.hasClassifier).toBe(false);
    expect(dino.labels).toEqual([]);
    const model = modelFromFiles(fixtureFiles('tiny-vit'));
    const wrapped = await load(model, { warmup: false });
    wrapped.dispose();
    expect(model.numParams()).toBeGreaterThan(0); // a model passed in stays the caller's
    model.dispose();
  });

  it('refuses unknown options, listing the valid ones, and bad sources, naming them', async () => {
    await expect(load(path.join(FIXTURES, 'tiny-vit'), { topK: 3 } as never)).rejects.toThrow(
      "load: unknown option 'topK'; valid options are warmup, fetch, id2label, imageSize, seed",
    );
    await expect(load(path.join(FIXTURES, 'no-such-model'))).rejects.toThrow(/load\('.*no-such-model'\): no such folder; give a checkpoint folder/);
    await expect(load(FIXTURES)).rejects.toThrow(/fixtures: no config\.json; a vitlens\/Hugging Face checkpoint folder holds/);
    await expect(load(42 as never)).rejects.toThrow(/load: expected a checkpoint folder path .* got number/);
  });

  it('fetches a checkpoint folder from a URL', async () => {
    const files = fixtureFiles('tiny-vit');
    const served: Record<string, Uint8Array> = {
      'config.json': new TextEncoder().encode(JSON.stringify(files.config)),
      'model.safetensors': files.weights,
    };
    const requested: string[] = [];
    const fakeFetch = (async (url: string) => {
      requested.push(url);
      const body = served[url.split('/').pop() as string];
      return body ? new Response(body as BodyInit) : new Response('not found', { status: 404 });
    }) as unknown as typeof fetch;
    const remote = await load('https://example.invalid/models/tiny-vit/', { fetch: fakeFetch, warmup: false });
    expect(requested.sort()).toEqual([
      'https://example.invalid/models/tiny-vit/config.json',
      'https://example.invalid/models/tiny-vit/model.safetensors',
      'https://example.invalid/models/tiny-vit/preprocessor_config.json',
    ]);
    expect(await remote.classify(image(16, 16))).toEqual(await vit.classify(image(16, 16)));
    remote.dispose();
  });
});

describe('classify', () => {
  it('returns the top classes, most probable first, agreeing with a direct forward pass', async () => {
    const img = image(40, 24);
    const top = await vit.classify(img, { topk: 3 });
    expect(top).toHaveLength(3);
    expect(Object.keys(top[0] as object).sort()).toEqual(['classIndex', 'label', 'probability']);
    const direct = tf.tidy(() => {
      const x = pixelsToTensor(img.data, [1, 24, 40, 3], processorToPreprocessOptions(vit.model.processor));
      return tf.softmax(vit.model.forward(x).logits).dataSync() as Float32Array;
    });
    const best = direct.indexOf(Math.max(...direct));
    expect(top[0]?.classIndex).toBe(best);
    expect(top[0]?.label).toBe(vit.config.id2label[String(best)]);
    for (const c of top) expect(c.probability).toBeCloseTo(direct[c.classIndex] as number, 5);
    expect(top[0]!.probability).toBeGreaterThanOrEqual(top[1]!.probability);
    expect(await vit.classify(img)).toHaveLength(5);
  });

  it('gives the same classes for an RgbImage, its RGBA pixels and a pixel tensor', async () => {
    const img = image(16, 16, 3);
    const expected = await vit.classify(img);
    expect(await vit.classify(rgba(img))).toEqual(expected);
    const t = tf.tensor3d(img.data, [16, 16, 3], 'int32');
    const fromTensor = await vit.classify(t);
    t.dispose();
    expect(fromTensor.map((c) => c.classIndex)).toEqual(expected.map((c) => c.classIndex));
    for (const [i, c] of fromTensor.entries()) expect(c.probability).toBeCloseTo(expected[i]!.probability, 6);
  });

  it('predicts several images in one pass with logits and float64 probabilities', async () => {
    const [a, b] = await vit.predict([image(16, 16, 1), image(32, 32, 2)], { topk: 2 });
    for (const p of [a, b]) {
      expect(p?.logits).toHaveLength(10);
      expect(p?.probabilities.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
      expect(p?.top).toHaveLength(2);
    }
    expect(a?.top).toEqual(await vit.classify(image(16, 16, 1), { topk: 2 }));
  });

  it('leaves no tensor behind', async () => {
    await vit.classify(image(20, 20));
    const before = tf.memory().numTensors;
    await vit.classify(image(20, 20));
    await vit.predict([image(16, 16), image(16, 16, 2)]);
    const t = tf.zeros([16, 16, 3]);
    await vit.classify(t as tf.Tensor3D);
    t.dispose();
    await expect(vit.classify({ data: new Uint8Array(5), width: 2, height: 2 })).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('explains bad input: sizes, shapes, topk, headless models', async () => {
    await expect(vit.classify({ data: new Uint8Array(10), width: 2, height: 2 })).rejects.toThrow(
      'classify: image: 10 bytes do not fill 2×2 pixels; expected 12 (RGB) or 16 (RGBA)',
    );
    const wrong = tf.zeros([16, 16, 2]);
    await expect(vit.classify(wrong as tf.Tensor3D)).rejects.toThrow('classify: a tensor image must hold pixel values 0..255 as [H, W, 3] or [1, H, W, 3], got [16, 16, 2]');
    wrong.dispose();
    await expect(vit.classify(image(16, 16), { topk: 11 })).rejects.toThrow('classify: topk must be an integer in 1..10 (the model has 10 classes), got 11');
    await expect(vit.classify(image(16, 16), { topK: 3 } as never)).rejects.toThrow("classify: unknown option 'topK'; valid options are topk");
    await expect(vit.classify('cat.jpg' as never)).rejects.toThrow(/classify: image: expected an RgbImage, ImageData or \{ data, width, height \} pixels/);
    await expect(dino.classify(image(16, 16))).rejects.toThrow(/classify: this ViTModel has no classifier .* use embed\(\)/);
  });
});

describe('explain', () => {
  it("returns every layer's attention as typed arrays and the maps attention-viz draws from them", async () => {
    const img = image(16, 16, 4);
    const e = await vit.explain(img, { classIndex: 3 });
    const { heads, gridHeight, gridWidth, prefixTokens, layers, gradients } = e.attention;
    const t = geometry(vit.config).tokens;
    expect([heads, gridHeight, gridWidth, prefixTokens]).toEqual([4, 4, 4, 1]);
    expect(layers).toHaveLength(2);
    expect(gradients).toHaveLength(2);
    for (const a of [...layers, ...(gradients ?? [])]) expect(a).toHaveLength(heads * t * t);
    expect(e.classIndex).toBe(3);
    expect(e.predictions).toHaveLength(5);
    expect(e.probabilities?.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(e.cls).toHaveLength(2);
    expect(e.cls[1]).toEqual(clsAttention(layers[1] as Float32Array, e.attention));
    expect(e.rollout).toEqual(attentionRollout(layers, e.attention));
    expect(e.gradient).toEqual(gradientAttention(layers, gradients ?? [], e.attention));
    expect([e.rollout.height, e.rollout.width, e.rollout.data.length]).toEqual([4, 4, 16]);
  });

  it('agrees with the model’s own attention and gradient calls', async () => {
    const img = image(16, 16, 5);
    const e = await vit.explain(img, { classIndex: 7 });
    const x = pixelsToTensor(img.data, [1, 16, 16, 3], processorToPreprocessOptions(vit.model.processor));
    const direct = vit.model.attentionGradients(x, 7);
    expect(Array.from(e.logits ?? [])).toEqual(Array.from(direct.logits.dataSync()));
    for (const [l, a] of direct.attentions.entries()) expect(Array.from(e.attention.layers[l] ?? [])).toEqual(Array.from(a.dataSync()));
    for (const [l, g] of direct.gradients.entries()) expect(Array.from(e.attention.gradients?.[l] ?? [])).toEqual(Array.from(g.dataSync()));
    tf.dispose([x, direct.logits, ...direct.attentions, ...direct.gradients]);
  });

  it('explains the predicted class by default, and skips the backward pass when asked', async () => {
    const e = await vit.explain(image(16, 16, 6));
    expect(e.classIndex).toBe(e.predictions[0]?.classIndex);
    const quick = await vit.explain(image(16, 16, 6), { gradient: false });
    expect(quick.attention.gradients).toBeUndefined();
    expect(quick.gradient).toBeUndefined();
    expect(quick.attention.layers).toEqual(e.attention.layers);
  });

  it('explains a headless model (DINO) through the norm of its CLS embedding', async () => {
    const e = await dino.explain(image(16, 16, 7));
    expect(e.predictions).toEqual([]);
    expect(e.classIndex).toBeUndefined();
    const { clsEmbedding } = await dino.embed(image(16, 16, 7));
    expect(e.embeddingNorm).toBeCloseTo(Math.hypot(...clsEmbedding), 4);
    expect(e.attention.gradients).toHaveLength(dino.config.num_hidden_layers);
    expect(e.gradient?.data).toHaveLength(geometry(dino.config).numPatches);
    await expect(dino.explain(image(16, 16), { classIndex: 0 })).rejects.toThrow(/explain: classIndex 0 given, but this ViTModel has no classifier/);
  });

  it("reads DeiT's distillation token with query 1", async () => {
    const e = await deit.explain(image(16, 16, 8), { query: 1, gradient: false });
    expect(e.attention.prefixTokens).toBe(2);
    expect(e.cls[0]).toEqual(clsAttention(e.attention.layers[0] as Float32Array, e.attention, { query: 1 }));
    await expect(vit.explain(image(16, 16), { query: 1 })).rejects.toThrow('explain: query must be an integer in 0..0 (this model has only the CLS token, 0), got 1');
  });

  it('leaves no tensor behind, and refuses bad options by name', async () => {
    await vit.explain(image(16, 16));
    const before = tf.memory().numTensors;
    await vit.explain(image(24, 24), { classIndex: 1 });
    await vit.explain(image(24, 24), { gradient: false });
    await dino.explain(image(16, 16));
    await dino.explain(image(16, 16), { gradient: false });
    await dino.embed(image(16, 16));
    await expect(vit.explain(image(16, 16), { classIndex: 10 })).rejects.toThrow('explain: classIndex must be an integer in 0..9 (the model has 10 classes), got 10');
    await expect(vit.explain(image(16, 16), { head: 4 })).rejects.toThrow('explain: head must be an integer in 0..3 (the model has 4 heads), got 4');
    await expect(vit.explain(image(16, 16), { fusion: 'sum' as never })).rejects.toThrow('explain: fusion must be one of mean, max, min, got "sum"');
    expect(tf.memory().numTensors).toBe(before);
  });
});
