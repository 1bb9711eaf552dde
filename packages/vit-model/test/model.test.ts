import { Rng, initBackend, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  PRESET_NAMES,
  ViTForImageClassification,
  classNames,
  countForwardFlops,
  createConfig,
  defaultProcessorConfig,
  forwardFlopsBreakdown,
  parseConfig,
  processorToPreprocessOptions,
} from '../src';
import { dropPathMask } from '../src/ops';

const tiny = () =>
  createConfig('vit-mini-patch4-32', { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, image_size: 8 });

function input(batch: number, size: number, seed = 1): tf.Tensor4D {
  return tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('configs', () => {
  it('offers the documented presets with HF field names', () => {
    expect(PRESET_NAMES).toEqual(expect.arrayContaining(['vit-base-patch16-224', 'vit-tiny-patch4-32', 'vit-mini-patch4-32', 'vit-lite-patch4-32']));
    const base = createConfig('vit-base-patch16-224');
    expect([base.hidden_size, base.num_hidden_layers, base.num_attention_heads, base.intermediate_size, base.patch_size, base.image_size]).toEqual([768, 12, 12, 3072, 16, 224]);
    expect(base.layer_norm_eps).toBe(1e-12);
    const mini = createConfig('vit-mini-patch4-32');
    expect([mini.hidden_size, mini.num_hidden_layers, mini.num_attention_heads, mini.intermediate_size]).toEqual([128, 6, 4, 512]);
    const lite = createConfig('vit-lite-patch4-32');
    expect([lite.hidden_size, lite.num_hidden_layers, lite.num_attention_heads, lite.intermediate_size, lite.patch_size]).toEqual([256, 6, 4, 512, 4]);
    expect(classNames(mini)).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  });

  it('derives label2id when only id2label is overridden', () => {
    const c = createConfig('vit-mini-patch4-32', { id2label: { '0': 'a', '1': 'b' } });
    expect(c.label2id).toEqual({ a: 0, b: 1 });
  });

  it.each([
    [{ num_attention_heads: 5 }, /hidden_size 128 is not divisible by num_attention_heads 5/],
    [{ image_size: 30 }, /image_size 30 is not divisible by patch_size 4/],
    [{ hidden_dropout_prob: 1.5 }, /hidden_dropout_prob must be a number in \[0, 1\)/],
    [{ num_hidden_layers: 0 }, /num_hidden_layers must be a positive integer, got 0/],
    [{ hidden_act: 'relu' as 'gelu' }, /hidden_act must be "gelu"/],
    [{ id2label: { '0': 'a', '2': 'b' } }, /id2label must have keys "0".."1".*key "1" is missing/],
  ])('rejects an invalid config %j with a message naming the field', (overrides, message) => {
    expect(() => createConfig('vit-mini-patch4-32', overrides)).toThrow(message);
    expect(() => createConfig('vit-mini-patch4-32', overrides)).toThrow(ConfigError);
  });

  it('names the preset list for an unknown preset and the file for a bad config.json', () => {
    expect(() => createConfig('vit-huge')).toThrow(/unknown preset 'vit-huge'; valid presets are vit-base-patch16-224/);
    expect(() => parseConfig({ hidden_size: 'big' }, 'ckpt/config.json')).toThrow(/^ckpt\/config.json: hidden_size must be a positive integer, got "big"/);
    expect(() => parseConfig({ id2label: { '0': 'a' }, label2id: { a: 1 } }, 'c.json')).toThrow(/label2id\["a"\] = 1 disagrees/);
  });

  it('maps the processor config to core preprocessing options', () => {
    const p = defaultProcessorConfig(createConfig('vit-tiny-patch4-32'));
    expect(processorToPreprocessOptions(p)).toEqual({ resize: { height: 32, width: 32 }, rescaleFactor: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(processorToPreprocessOptions({ ...p, do_resize: false, do_normalize: false })).toEqual({ rescaleFactor: 1 / 255 });
  });

  it('counts forward FLOPs as 0.73 GFLOP per image for vit-tiny and ~35 GFLOP for ViT-B/16', () => {
    const tinyFlops = countForwardFlops(createConfig('vit-tiny-patch4-32'), 1);
    expect(tinyFlops / 1e9).toBeCloseTo(0.73, 2);
    expect(countForwardFlops(createConfig('vit-tiny-patch4-32'), 64)).toBe(64 * tinyFlops);
    expect(countForwardFlops(createConfig('vit-base-patch16-224'), 1) / 1e9).toBeGreaterThan(34);
    expect(countForwardFlops(createConfig('vit-base-patch16-224'), 1) / 1e9).toBeLessThan(36);
    const b = forwardFlopsBreakdown(createConfig('vit-tiny-patch4-32'));
    expect(b.attentionScores).toBe(12 * 2 * 65 * 65 * 192);
  });
});

describe('ViTForImageClassification', () => {
  it('names parameters as HF and initialises them reproducibly from the seed', () => {
    const a = ViTForImageClassification.create(tiny(), { seed: 7 });
    const b = ViTForImageClassification.create(tiny(), { seed: 7 });
    const c = ViTForImageClassification.create(tiny(), { seed: 8 });
    const q = 'vit.encoder.layer.1.attention.attention.query.weight';
    expect(a.params.get(q)!.shape).toEqual([16, 16]);
    expect(a.params.get('vit.embeddings.patch_embeddings.projection.weight')!.shape).toEqual([16, 3, 4, 4]);
    expect(a.params.get('classifier.weight')!.shape).toEqual([10, 16]);
    expect(a.params.get(q)!.dataSync()).toEqual(b.params.get(q)!.dataSync());
    expect(a.params.get(q)!.dataSync()).not.toEqual(c.params.get(q)!.dataSync());
    // trunc_normal(std = initializer_range), zero biases, LayerNorm ones
    const w = Array.from(a.params.get(q)!.dataSync());
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    expect([...a.params.get('vit.encoder.layer.0.attention.attention.query.bias')!.dataSync()].every((v) => v === 0)).toBe(true);
    expect([...a.params.get('vit.layernorm.weight')!.dataSync()].every((v) => v === 1)).toBe(true);
    for (const m of [a, b, c]) m.dispose();
  });

  it('lists weight-decay parameters: matrices only, not biases, LayerNorm, position embeddings or CLS', () => {
    const m = ViTForImageClassification.create(tiny());
    const names = m.decayParamNames();
    expect(names).toContain('vit.encoder.layer.0.intermediate.dense.weight');
    expect(names).toContain('vit.embeddings.patch_embeddings.projection.weight');
    expect(names).toContain('classifier.weight');
    expect(names.some((n) => n.endsWith('.bias') || n.includes('layernorm') || n.includes('position') || n.includes('cls_token'))).toBe(false);
    m.dispose();
  });

  it('forward leaks no tensors, with and without attentions and hidden states', async () => {
    const m = ViTForImageClassification.create(tiny());
    const x = input(3, 8);
    for (const opts of [{}, { outputAttentions: true }, { outputAttentions: true, outputHiddenStates: true }, { training: true, seed: 1 }]) {
      const before = tf.memory().numTensors;
      const out = m.forward(x, opts);
      expect(out.logits.shape).toEqual([3, 10]);
      if (opts.outputAttentions) expect(out.attentions!.map((a) => a.shape)).toEqual([[3, 2, 5, 5], [3, 2, 5, 5]]);
      tf.dispose([out.logits, ...(out.attentions ?? []), ...(out.hiddenStates ?? [])]);
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
    m.dispose();
  });

  it('attention rows are probability distributions', () => {
    const m = ViTForImageClassification.create(tiny());
    const x = input(2, 8);
    const out = m.forward(x, { outputAttentions: true });
    const sums = tf.sum(out.attentions![0]!, -1).dataSync();
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    tf.dispose([x, out.logits, ...out.attentions!]);
    m.dispose();
  });

  it('training-mode dropout is reproducible from the seed and off in eval mode', () => {
    const m = ViTForImageClassification.create(
      { ...tiny(), hidden_dropout_prob: 0.3, attention_probs_dropout_prob: 0.3 },
      { seed: 2 },
    );
    const x = input(2, 8);
    const run = (opts: object) => {
      const { logits } = m.forward(x, opts);
      const v = logits.dataSync().slice();
      logits.dispose();
      return v;
    };
    expect(run({ training: true, seed: 5 })).toEqual(run({ training: true, seed: 5 }));
    expect(run({ training: true, seed: 5 })).not.toEqual(run({ training: true, seed: 6 }));
    expect(run({ training: true, seed: 5 })).not.toEqual(run({}));
    expect(run({})).toEqual(run({ training: false, seed: 9 }));
    x.dispose();
    m.dispose();
  });

  it('stochastic depth skips whole residual branches per image, deeper layers more often, only in training', () => {
    const m = ViTForImageClassification.create({ ...tiny(), num_hidden_layers: 3 }, { seed: 3 });
    const x = input(16, 8);
    const hidden = (opts: object): Float32Array[] => {
      const out = m.forward(x, { ...opts, outputHiddenStates: true });
      const states = out.hiddenStates!.map((h) => h.dataSync().slice() as Float32Array);
      tf.dispose([out.logits, ...out.hiddenStates!]);
      return states; // embeddings, then each layer's output: [16 · T · hidden] each
    };
    const row = (a: Float32Array, b: number, len: number) => a.subarray(b * len, (b + 1) * len);
    const before = tf.memory().numTensors;
    const plain = hidden({});
    // Without training, or with a rate of 0, nothing changes.
    expect(hidden({ dropPathRate: 0.9 })).toEqual(plain);
    expect(hidden({ training: true, seed: 4, dropPathRate: 0 })).toEqual(plain);
    const dropped = hidden({ training: true, seed: 4, dropPathRate: 0.9 });
    expect(hidden({ training: true, seed: 4, dropPathRate: 0.9 })).toEqual(dropped); // reproducible from the seed
    const len = plain[0]!.length / 16; // T · hidden
    // Layer 0 has rate 0: its output is the plain one.
    expect(dropped[1]).toEqual(plain[1]);
    // The last layer (rate 0.9): an image whose two branches were both skipped passes its input
    // through unchanged; a kept branch is scaled by 1 / (1 − rate), so it changes the output.
    let skipped = 0;
    for (let b = 0; b < 16; b++) {
      const input = row(dropped[2]!, b, len);
      const output = row(dropped[3]!, b, len);
      if (output.every((v, k) => v === input[k])) skipped++;
    }
    expect(skipped).toBeGreaterThan(4); // 0.81 of 16 expected; P(≤ 4) < 1e-5
    expect(skipped).toBeLessThan(16); // P(16) = 0.81^16 ≈ 0.03 — pinned by the seed
    expect(tf.memory().numTensors).toBe(before);
    expect(() => m.forward(x, { training: true, dropPathRate: 1 })).toThrow(/dropPathRate must be in \[0, 1\), got 1/);
    x.dispose();
    m.dispose();
  });

  it("stochastic depth's mask is 0 with the rate's probability and 1 / (1 − rate) otherwise", () => {
    const mask = dropPathMask(4000, 0.25, new Rng(1));
    expect(mask.shape).toEqual([4000, 1, 1]);
    const values = mask.dataSync();
    const zeros = values.filter((v) => v === 0).length;
    expect(values.every((v) => v === 0 || v === Math.fround(1 / 0.75))).toBe(true);
    expect(zeros / 4000).toBeGreaterThan(0.22); // 0.25 ± 4.4 standard deviations
    expect(zeros / 4000).toBeLessThan(0.28);
    expect([...dropPathMask(8, 0.25, new Rng(1)).dataSync()]).toEqual([...values.subarray(0, 8)]);
    mask.dispose();
  });

  it('rejects input of the wrong size with the expected shape', () => {
    const m = ViTForImageClassification.create(tiny());
    const x = input(1, 12);
    expect(() => m.forward(x)).toThrow(/pixelValues must be \[B, 8, 8, 3\] .*got \[1, 12, 12, 3\]/);
    x.dispose();
    m.dispose();
  });

  it('replaceHead swaps the classifier for a new label set, freshly initialised, keeping the body', () => {
    const m = ViTForImageClassification.create(createConfig('vit-mini-patch4-32', { num_hidden_layers: 1, id2label: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [String(i), `c${i}`])) }));
    const body = m.params.get('vit.layernorm.weight')!;
    const before = tf.memory().numTensors;
    m.replaceHead({ '0': 'cat', '1': 'dog' }, 11);
    expect(tf.memory().numTensors).toBe(before); // two variables out, two in
    expect(m.params.get('classifier.weight')!.shape).toEqual([2, 128]);
    expect([...m.params.get('classifier.bias')!.dataSync()]).toEqual([0, 0]);
    expect(m.params.get('vit.layernorm.weight')).toBe(body);
    expect(m.config.label2id).toEqual({ cat: 0, dog: 1 });
    expect(() => m.replaceHead({ '1': 'x' })).toThrow(/key "0" is missing/);
    m.dispose();
    const x = input(1, 32);
    expect(() => m.forward(x)).toThrow(/used after dispose/);
    x.dispose();
  });
});
