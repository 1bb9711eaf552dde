import { CIFAR10_MEAN, CIFAR10_STD, Rng, expectFlatMemory, initBackend, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Batch, type ImageDataset, batchIterator } from '../src/index';
import { syntheticImages } from './helpers';

function dataset(count: number): ImageDataset {
  const { images, labels } = syntheticImages(count, 'batches');
  return { images, labels, classNames: 'abcdefghij'.split(''), count, height: 32, width: 32, source: 'synthetic' };
}

async function collect(it: AsyncIterable<Batch>): Promise<{ pixels: Float32Array[]; labels: number[][]; indices: number[][]; targets: (Float32Array | undefined)[] }> {
  const out = { pixels: [] as Float32Array[], labels: [] as number[][], indices: [] as number[][], targets: [] as (Float32Array | undefined)[] };
  for await (const batch of it) {
    out.pixels.push(batch.images.dataSync() as Float32Array);
    out.labels.push(Array.from(batch.labels));
    out.indices.push(Array.from(batch.indices));
    out.targets.push(batch.targets);
    batch.images.dispose();
  }
  return out;
}

describe('batchIterator', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });
  const ds = dataset(50);
  const all = Int32Array.from({ length: 50 }, (_, i) => i);

  it('yields [B, H, W, 3] tensors normalised like (x/255 - mean)/std, with labels and indices', async () => {
    const it = batchIterator(ds, all, { batchSize: 16, preprocess: { rescaleFactor: 1 / 255, mean: CIFAR10_MEAN, std: CIFAR10_STD } });
    expect(it.length).toBe(4);
    const first = await it.next();
    if (first.done) throw new Error('no batch');
    const { images, labels, indices } = first.value;
    expect(images.shape).toEqual([16, 32, 32, 3]);
    expect(Array.from(indices)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(Array.from(labels)).toEqual(Array.from(ds.labels.subarray(0, 16)));
    const values = images.dataSync();
    for (const k of [0, 1, 2, 3071, 5000]) {
      const c = k % 3;
      expect(values[k]).toBeCloseTo((ds.images[k]! / 255 - CIFAR10_MEAN[c]!) / CIFAR10_STD[c]!, 4);
    }
    images.dispose();
    await it.return?.();
  });

  it('resizes per batch to the model input size and keeps the last partial batch unless dropLast', async () => {
    const sizes: number[][] = [];
    for await (const b of batchIterator(ds, all, { batchSize: 16, preprocess: { resize: { height: 64, width: 48 } } })) {
      sizes.push(b.images.shape);
      b.images.dispose();
    }
    expect(sizes).toEqual([
      [16, 64, 48, 3],
      [16, 64, 48, 3],
      [16, 64, 48, 3],
      [2, 64, 48, 3],
    ]);
    const dropped = batchIterator(ds, all, { batchSize: 16, dropLast: true, preprocess: {} });
    expect(dropped.length).toBe(3);
    expect((await collect(dropped)).labels).toHaveLength(3);
  });

  it('shuffles every index exactly once per epoch, differently each epoch', async () => {
    const rng = new Rng('epochs');
    const e1 = await collect(batchIterator(ds, all, { batchSize: 8, shuffle: true, rng, preprocess: {} }));
    const e2 = await collect(batchIterator(ds, all, { batchSize: 8, shuffle: true, rng, preprocess: {} }));
    const flat1 = e1.indices.flat();
    expect([...flat1].sort((a, b) => a - b)).toEqual(Array.from(all));
    expect(flat1).not.toEqual(Array.from(all));
    expect(e2.indices.flat()).not.toEqual(flat1);
  });

  it('replays the same batches from a restored rng state, with or without prefetch, whatever else uses the rng', async () => {
    const opts = { batchSize: 8, shuffle: true, augment: 'randaugment-cutout' as const, cutmix: 1, mixup: 0.8, preprocess: { rescaleFactor: 1 / 255 } };
    const rng = new Rng('replay');
    rng.next();
    const state = rng.getState();
    const a = await collect(batchIterator(ds, all, { ...opts, rng, prefetch: true }));
    // A consumer drawing from the same rng between batches must not change the epoch.
    const rng2 = Rng.fromState(state);
    const it = batchIterator(ds, all, { ...opts, rng: rng2, prefetch: false });
    const b = { pixels: [] as Float32Array[], targets: [] as (Float32Array | undefined)[], indices: [] as number[][] };
    for await (const batch of it) {
      rng2.next();
      b.pixels.push(batch.images.dataSync() as Float32Array);
      b.targets.push(batch.targets);
      b.indices.push(Array.from(batch.indices));
      batch.images.dispose();
    }
    expect(b.indices).toEqual(a.indices);
    expect(b.pixels).toEqual(a.pixels);
    expect(b.targets).toEqual(a.targets);
    expect(a.targets[0]).toHaveLength(8 * 10);
  });

  it('augments: pixels differ from the source, labels stay', async () => {
    const [plain, augmented] = await Promise.all([
      collect(batchIterator(ds, all, { batchSize: 50, preprocess: {} })),
      collect(batchIterator(ds, all, { batchSize: 50, preprocess: {}, augment: 'basic', rng: new Rng(3) })),
    ]);
    expect(augmented.labels).toEqual(plain.labels);
    expect(augmented.pixels[0]).not.toEqual(plain.pixels[0]);
    // a custom augmentation function is applied to every image
    const black = await collect(batchIterator(ds, all, { batchSize: 25, preprocess: {}, augment: (img) => img.fill(0) }));
    expect(black.pixels.every((p) => p.every((v) => v === 0))).toBe(true);
  });

  it('leaves no tensors behind once the caller disposes the batches, even when stopped early', async () => {
    await expectFlatMemory('batchIterator epoch', async () => {
      const it = batchIterator(ds, all, { batchSize: 16, augment: 'basic', preprocess: { resize: { height: 40, width: 40 }, rescaleFactor: 1 / 255, mean: CIFAR10_MEAN, std: CIFAR10_STD } });
      for await (const b of it) {
        b.images.dispose();
        break;
      }
      await collect(batchIterator(ds, all, { batchSize: 16, preprocess: {} }));
    });
    expect(tf.memory().numTensors).toBe(0);
  });

  it('rejects a bad batch size, out-of-range indices and an unknown policy', () => {
    expect(() => batchIterator(ds, all, { batchSize: 0, preprocess: {} })).toThrowError(/batchSize must be a positive integer, got 0/);
    expect(() => batchIterator(ds, Int32Array.from([3, 50]), { batchSize: 2, preprocess: {} })).toThrowError(/indices\[1\] is 50, outside 0\.\.49 of synthetic/);
    expect(() => batchIterator(ds, all, { batchSize: 2, preprocess: {}, augment: 'nope' })).toThrowError(/unknown augmentation policy "nope"/);
    expect(() => batchIterator(ds, all, { batchSize: 2, preprocess: {}, mixup: -1 })).toThrowError(/mixup must be ≥ 0/);
  });
});
