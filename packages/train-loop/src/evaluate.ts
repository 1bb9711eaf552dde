import { type PreprocessOptions, tf } from '@vitlens/core';
import { type ImageDataset, batchIterator } from '@vitlens/cifar10-data';
import { crossEntropyPerExample } from './loss';
import { type ClassificationMetrics, MetricsAccumulator } from './metrics';
import type { TrainableModel } from './types';

export interface EvaluateOptions {
  /** Images per inference batch (default 64). */
  batchSize?: number;
  /** How pixels become model input (the checkpoint's processor). */
  preprocess: PreprocessOptions;
  /** Called after each batch with the number of images done so far. */
  onProgress?: (done: number, total: number, running: { accuracy: number }) => void;
  /** Stop early (the metrics cover the images done). */
  signal?: AbortSignal;
  /**
   * Test-time augmentation: 'flip' averages the class probabilities of each image and its mirror
   * image (left ↔ right); loss and top-k come from the averaged probabilities. Default 'none'.
   */
  tta?: 'none' | 'flip';
}

/** Log of the class probabilities averaged over an image and its horizontal mirror: [B, C]. */
function flipAveragedLogProbs(model: TrainableModel, images: tf.Tensor4D): tf.Tensor2D {
  const mirrored = tf.reverse(images, 2); // [B, H, W, C]: width reversed
  const p = tf.add(tf.softmax(model.forward(images, { training: false }).logits), tf.softmax(model.forward(mirrored, { training: false }).logits));
  // softmax(log p̄) = p̄, so the cross-entropy of these "logits" is −log p̄[label]
  return tf.log(tf.mul(p, 0.5)) as tf.Tensor2D;
}

/**
 * Accuracy, top-5, per-class accuracy, confusion matrix and mean loss of `model` on the images of
 * `dataset` at `indices` (all of them by default). Batched inference; each batch runs in `tf.tidy`.
 */
export async function evaluateModel(
  model: TrainableModel,
  dataset: ImageDataset,
  indices: Int32Array | undefined,
  opts: EvaluateOptions,
): Promise<ClassificationMetrics> {
  const rows = indices ?? Int32Array.from({ length: dataset.count }, (_, i) => i);
  const acc = new MetricsAccumulator(dataset.classNames);
  const it = batchIterator(dataset, rows, { batchSize: opts.batchSize ?? 64, preprocess: opts.preprocess, shuffle: false, augment: 'none' });
  let done = 0;
  let correct = 0;
  for await (const batch of it) {
    const k = Math.min(5, dataset.classNames.length);
    let topk: tf.Tensor;
    let losses: tf.Tensor;
    try {
      [topk, losses] = tf.tidy(() => {
      const logits =
        opts.tta === 'flip'
          ? flipAveragedLogProbs(model, batch.images as tf.Tensor4D)
          : model.forward(batch.images, { training: false }).logits; // [B, C]
      if (logits.shape[1] !== dataset.classNames.length) {
        throw new Error(
          `evaluateModel: the model has ${logits.shape[1]} classes, ${dataset.source} has ${dataset.classNames.length} (${dataset.classNames.join(', ')})`,
        );
      }
      return [tf.topk(logits, k).indices, crossEntropyPerExample(logits, { labels: batch.labels })] as const;
      });
    } finally {
      batch.images.dispose();
    }
    const top = await topk.data();
    const loss = await losses.data();
    topk.dispose();
    losses.dispose();
    acc.add(batch.labels, top, k, loss);
    for (let i = 0; i < batch.labels.length; i++) if (top[i * k] === batch.labels[i]) correct++;
    done += batch.labels.length;
    opts.onProgress?.(done, rows.length, { accuracy: correct / done });
    if (opts.signal?.aborted) {
      await it.return?.();
      break;
    }
  }
  return acc.result();
}
