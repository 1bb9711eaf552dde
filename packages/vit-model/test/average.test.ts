import { initBackend, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AverageError,
  averageModels,
  createConfig,
  DeiTForImageClassification,
  defaultProcessorConfig,
  type ImageProcessorConfig,
  parameterDistance,
  type VisionTransformer,
  ViTForImageClassification,
} from '../src';

const config = (overrides = {}) =>
  createConfig('vit-mini-patch4-32', { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24, image_size: 8, ...overrides });

const NAME = 'vit.encoder.layer.1.intermediate.dense.weight';
const values = (model: VisionTransformer, name = NAME) => Array.from(model.params.get(name)!.dataSync());

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('averageModels', () => {
  it('makes every parameter the mean of the models’ and leaves them as they were', () => {
    const models = [1, 2, 3].map((seed) => ViTForImageClassification.create(config(), { seed }));
    const before = models.map((m) => values(m));
    const tensors = tf.memory().numTensors;
    const soup = averageModels(models);
    expect(soup).toBeInstanceOf(ViTForImageClassification);
    expect(soup.config).toEqual(models[0]!.config);
    // one new variable per parameter, nothing else left behind
    expect(tf.memory().numTensors).toBe(tensors + models[0]!.params.size);
    for (const name of ['vit.embeddings.cls_token', NAME, 'classifier.bias']) {
      const [a, b, c] = models.map((m) => values(m, name));
      values(soup, name).forEach((v, i) => {
        expect(v).toBeCloseTo((a![i]! + b![i]! + c![i]!) / 3, 6);
      });
    }
    expect(models.map((m) => values(m))).toEqual(before);
    soup.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    for (const m of models) m.dispose();
  });

  it('weighs the models by the given weights, divided by their sum', () => {
    const [a, b] = [4, 5].map((seed) => ViTForImageClassification.create(config(), { seed }));
    const soup = averageModels([a!, b!], { weights: [3, 1] });
    const [x, y] = [values(a!), values(b!)];
    values(soup).forEach((v, i) => {
      expect(v).toBeCloseTo(0.75 * x[i]! + 0.25 * y[i]!, 6);
    });
    const onlyB = averageModels([a!, b!], { weights: [0, 2] });
    expect(values(onlyB)).toEqual(y);
    for (const m of [a!, b!, soup, onlyB]) m.dispose();
  });

  it('of one model is that model: same weights, same logits', () => {
    const model = ViTForImageClassification.create(config(), { seed: 6 });
    const soup = averageModels([model, model]);
    expect(parameterDistance(soup, model)).toBe(0);
    tf.tidy(() => {
      const pixels = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      expect(Array.from(soup.forward(pixels).logits.dataSync())).toEqual(Array.from(model.forward(pixels).logits.dataSync()));
    });
    model.dispose();
    soup.dispose();
  });

  it('names the model and what differs when they are not checkpoints of one model', () => {
    const base = ViTForImageClassification.create(config(), { seed: 1 });
    const cases: [VisionTransformer, RegExp][] = [
      [ViTForImageClassification.create(config({ hidden_size: 8 }), { seed: 1 }), /b\.st: the shape of vit\.embeddings\.cls_token is \[1,1,8\], but a\.st's is \[1,1,16\]/],
      [
        ViTForImageClassification.create(config({ image_size: 12 }), { seed: 1 }),
        /the shape of vit\.embeddings\.position_embeddings is \[1,10,16\], but a\.st's is \[1,5,16\].*load them at one, which resizes their position embeddings/,
      ],
      [ViTForImageClassification.create(config({ num_hidden_layers: 3 }), { seed: 1 }), /b\.st: has parameter vit\.encoder\.layer\.2\.\S+, which a\.st lacks/],
      [DeiTForImageClassification.create(config({ model_type: 'deit' }), { seed: 1 }), /b\.st: the architecture is "DeiTForImageClassification", but a\.st's is "ViTForImageClassification"/],
      [
        ViTForImageClassification.create(config({ id2label: { 0: 'cat', 1: 'dog' }, label2id: { cat: 0, dog: 1 } }), { seed: 1 }),
        /b\.st: (the shape of classifier\.weight|id2label) is/,
      ],
    ];
    for (const [other, message] of cases) {
      expect(() => averageModels([base, other], { names: ['a.st', 'b.st'] })).toThrow(message);
      expect(() => averageModels([base, other])).toThrow(AverageError);
      other.dispose();
    }
    const renamed = ViTForImageClassification.create(config({ id2label: Object.fromEntries(Object.entries(base.config.id2label).map(([k, v]) => [k, `${v}!`])) }), { seed: 1 });
    expect(() => averageModels([base, renamed], { names: ['a.st', 'b.st'] })).toThrow(/b\.st: id2label is .*airplane!.*, but a\.st's is /);
    renamed.dispose();
    base.dispose();
  });

  it('refuses models normalised differently, bad weights and no models', () => {
    const a = ViTForImageClassification.create(config(), { seed: 1 });
    const cifarStats = { ...defaultProcessorConfig(config()), image_mean: [0.4914, 0.4822, 0.4465], image_std: [0.247, 0.243, 0.261] } satisfies ImageProcessorConfig;
    const b = ViTForImageClassification.create(config(), { seed: 2, processor: cifarStats });
    expect(() => averageModels([a, b])).toThrow(/model 2: preprocessor image_mean is \[0\.4914,0\.4822,0\.4465\], but model 1's is \[0\.5,0\.5,0\.5\]/);
    expect(() => averageModels([])).toThrow(/no models given/);
    expect(() => averageModels([a, a], { weights: [1] })).toThrow(/weights: expected one per model \(2\), got 1/);
    expect(() => averageModels([a, a], { weights: [1, -1] })).toThrow(/weights\[1\]: expected a finite number ≥ 0, got -1/);
    expect(() => averageModels([a, a], { weights: [1, Number.NaN] })).toThrow(/weights\[1\]: expected a finite number ≥ 0, got NaN/);
    expect(() => averageModels([a, a], { weights: [0, 0] })).toThrow(/at least one must be above 0/);
    a.dispose();
    b.dispose();
  });
});

describe('parameterDistance', () => {
  it('is ‖model − reference‖ / ‖reference‖ over all parameters', () => {
    const a = ViTForImageClassification.create(config(), { seed: 1 });
    const b = ViTForImageClassification.create(config(), { seed: 2 });
    let difference = 0;
    let norm = 0;
    for (const [name, variable] of a.params) {
      const x = variable.dataSync();
      const y = b.params.get(name)!.dataSync();
      x.forEach((v, i) => {
        difference += (y[i]! - v) ** 2;
        norm += v ** 2;
      });
    }
    expect(parameterDistance(b, a)).toBeCloseTo(Math.sqrt(difference / norm), 6);
    expect(parameterDistance(b, a)).toBeGreaterThan(0.1);
    a.dispose();
    b.dispose();
  });
});
