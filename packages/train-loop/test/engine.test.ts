import { initBackend, tf } from '@vitlens/core';
import { ViTForImageClassification, createConfig } from '@vitlens/vit-model';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_BUDGET, LocalGradientEngine, NATIVE_MEMORY_BUDGET, defaultMemoryBudget, trainingBytesPerImage } from '../src/index';
import { syntheticDataset, tinyConfig } from './helpers';

function gradientBatch(count: number) {
  const data = syntheticDataset(Math.ceil(count / 3), 5);
  const images = new Float32Array(count * 8 * 8 * 3);
  for (let i = 0; i < images.length; i++) images[i] = data.images[i]! / 127.5 - 1;
  return { images, shape: [count, 8, 8, 3] as [number, number, number, number], labels: Int32Array.from(data.labels.subarray(0, count)) };
}

describe('LocalGradientEngine', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('accumulating micro-batches of 4, 3 or 1 gives the gradients and loss of one batch of 10', async () => {
    const model = ViTForImageClassification.create(tinyConfig(), { seed: 3 });
    const batch = gradientBatch(10);
    const opts = { training: false, labelSmoothing: 0.1, seed: 7 };
    const whole = await new LocalGradientEngine(model, { microBatchSize: 10 }).computeGradients(batch, opts);
    for (const micro of [4, 3, 1]) {
      const before = tf.memory().numTensors;
      const engine = new LocalGradientEngine(model, { microBatchSize: micro });
      expect(engine.microBatchFor(10)).toBe(micro);
      const parts = await engine.computeGradients(batch, opts);
      expect(parts.loss).toBeCloseTo(whole.loss, 5);
      expect([...parts.grads.keys()].sort()).toEqual([...model.params.keys()].sort());
      for (const [name, g] of whole.grads) {
        const a = g.dataSync();
        const b = parts.grads.get(name)!.dataSync();
        const scale = Math.max(1e-3, ...Array.from(a, Math.abs));
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!) / scale, `${name}[${i}] with micro-batch ${micro}`).toBeLessThan(1e-4);
      }
      for (const g of parts.grads.values()) g.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    for (const g of whole.grads.values()) g.dispose();
    model.dispose();
  });

  it('soft targets equal to one-hot labels give the same loss as the labels', async () => {
    const model = ViTForImageClassification.create(tinyConfig(), { seed: 3 });
    const batch = gradientBatch(6);
    const targets = new Float32Array(6 * 3);
    batch.labels.forEach((l, i) => {
      targets[i * 3 + l] = 1;
    });
    const engine = new LocalGradientEngine(model, { microBatchSize: 4 });
    const a = await engine.computeGradients(batch, { training: false, labelSmoothing: 0, seed: 1 });
    const b = await engine.computeGradients({ ...batch, targets }, { training: false, labelSmoothing: 0, seed: 1 });
    expect(b.loss).toBeCloseTo(a.loss, 6);
    for (const r of [a, b]) for (const g of r.grads.values()) g.dispose();
    model.dispose();
  });

  it('passes the stochastic-depth rate to the model: reproducible from the seed, off outside training, no leaks', async () => {
    const model = ViTForImageClassification.create({ ...tinyConfig(), num_hidden_layers: 2 }, { seed: 3 });
    const batch = gradientBatch(8);
    const engine = new LocalGradientEngine(model, { microBatchSize: 8 });
    const lossOf = async (opts: { training: boolean; dropPathRate?: number; seed: number }) => {
      const r = await engine.computeGradients(batch, { labelSmoothing: 0, ...opts });
      for (const g of r.grads.values()) g.dispose();
      return r.loss;
    };
    const before = tf.memory().numTensors;
    const plain = await lossOf({ training: true, seed: 1 });
    const dropped = await lossOf({ training: true, dropPathRate: 0.9, seed: 1 });
    expect(dropped).not.toBe(plain);
    expect(await lossOf({ training: true, dropPathRate: 0.9, seed: 1 })).toBe(dropped);
    expect(await lossOf({ training: false, dropPathRate: 0.9, seed: 1 })).toBe(await lossOf({ training: false, seed: 1 }));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('picks the micro-batch from the memory budget when none is given', () => {
    const config = createConfig('vit-tiny-patch4-32');
    const perImage = trainingBytesPerImage(config);
    // The measured figure for ViT-Tiny/4 is ~39 MB per image.
    expect(perImage / 1e6).toBeGreaterThan(30);
    expect(perImage / 1e6).toBeLessThan(50);
    const fake = { params: new Map(), forward: () => { throw new Error('unused'); }, decayParamNames: () => [], config };
    expect(new LocalGradientEngine(fake, { memoryBudget: 10 * perImage }).microBatchFor(128)).toBe(10);
    expect(new LocalGradientEngine(fake, { memoryBudget: 10 * perImage }).microBatchFor(4)).toBe(4);
    expect(new LocalGradientEngine(fake, { memoryBudget: 1 }).microBatchFor(4)).toBe(1);
    expect(() => new LocalGradientEngine(fake, { microBatchSize: 0 })).toThrow(/microBatchSize must be a positive integer, got 0/);
  });

  it('sizes the default micro-batch for the backend: the wasm heap, or the native tensorflow budget', async () => {
    const config = createConfig('vit-tiny-patch4-32');
    const fake = { params: new Map(), forward: () => { throw new Error('unused'); }, decayParamNames: () => [], config };
    const perImage = trainingBytesPerImage(config);
    await initBackend({ prefer: 'wasm' });
    expect(defaultMemoryBudget()).toBe(DEFAULT_MEMORY_BUDGET);
    expect(new LocalGradientEngine(fake).microBatchFor(128)).toBe(Math.floor(DEFAULT_MEMORY_BUDGET / perImage)); // 27
    await initBackend({ prefer: 'tensorflow' });
    expect(defaultMemoryBudget()).toBe(NATIVE_MEMORY_BUDGET);
    expect(new LocalGradientEngine(fake).microBatchFor(128)).toBe(Math.floor(NATIVE_MEMORY_BUDGET / perImage)); // 59
    await initBackend({ prefer: 'cpu' });
  });
});
