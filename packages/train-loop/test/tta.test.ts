import { initBackend, pixelsToTensor, tf } from '@vitlens/core';
import type { ImageDataset } from '@vitlens/cifar10-data';
import { ViTForImageClassification, processorToPreprocessOptions } from '@vitlens/vit-model';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateModel } from '../src/index';
import { syntheticDataset, testBackend, tinyConfig } from './helpers';

/** The dataset with every image mirrored left ↔ right (HWC uint8). */
function mirrored(d: ImageDataset): ImageDataset {
  const images = new Uint8Array(d.images.length);
  const [h, w] = [d.height, d.width];
  for (let i = 0; i < d.count; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) images[((i * h + y) * w + x) * 3 + c] = d.images[((i * h + y) * w + (w - 1 - x)) * 3 + c]!;
      }
    }
  }
  return { ...d, images };
}

describe('evaluateModel with flip test-time augmentation', () => {
  beforeAll(async () => {
    await initBackend({ prefer: testBackend('cpu') });
  });

  it('scores each image by its and its mirror image\'s averaged probabilities', async () => {
    const dataset = syntheticDataset(4, 9); // 12 images
    const model = ViTForImageClassification.create(tinyConfig(), { seed: 21 });
    const preprocess = processorToPreprocessOptions(model.processor);
    const before = tf.memory().numTensors;
    const tta = await evaluateModel(model, dataset, undefined, { preprocess, batchSize: 5, tta: 'flip' });
    expect(tf.memory().numTensors).toBe(before);
    // By hand: softmax of the model on the images and on their mirror images, averaged.
    const probs = (d: ImageDataset) =>
      tf.tidy(() => tf.softmax(model.forward(pixelsToTensor(d.images, [d.count, d.height, d.width, 3], preprocess) as tf.Tensor4D).logits).arraySync() as number[][]);
    const [p, q] = [probs(dataset), probs(mirrored(dataset))];
    let loss = 0;
    let correct = 0;
    for (let i = 0; i < dataset.count; i++) {
      const avg = p[i]!.map((v, c) => (v + q[i]![c]!) / 2);
      loss -= Math.log(avg[dataset.labels[i]!]!);
      if (avg.indexOf(Math.max(...avg)) === dataset.labels[i]) correct++;
    }
    expect(tta.meanLoss).toBeCloseTo(loss / dataset.count, 5);
    expect(tta.accuracy).toBe(correct / dataset.count);
    // …which is not what the plain evaluation gives (the mirror images change the probabilities).
    const plain = await evaluateModel(model, dataset, undefined, { preprocess, batchSize: 5 });
    expect(Math.abs(plain.meanLoss - tta.meanLoss)).toBeGreaterThan(1e-4);
    model.dispose();
  });
});
