import { tf } from '@vitlens/core';
import { geometry } from '@vitlens/vit-model';
import { crossEntropy } from './loss';
import type { GradientBatch, GradientEngine, GradientOptions, GradientResult, TrainableModel } from './types';

/** The ViT shape fields the memory estimate reads (a subset of `ViTConfig`). */
export interface ShapeConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  image_size: number;
  patch_size: number;
}

/**
 * Bytes one image costs during a training step: TF.js keeps every forward activation until the
 * backward pass ends. Per layer ≈ T·(18·hidden + 8·mlp) + 10·heads·T² floats, calibrated on the
 * measured ~39 MB per image of ViT-Tiny/4 at 32×32 (TFJS-WASM-NOTES.md).
 */
export function trainingBytesPerImage(c: ShapeConfig): number {
  const { tokens } = geometry(c);
  const perLayer = tokens * (18 * c.hidden_size + 8 * c.intermediate_size) + 10 * c.num_attention_heads * tokens * tokens;
  return 4 * (c.num_hidden_layers * perLayer + 4 * c.image_size * c.image_size * 3);
}

/** Default activation budget of one micro-batch: the wasm heap is 4 GiB and also holds weights and optimizer state. */
export const DEFAULT_MEMORY_BUDGET = 1024 ** 3;

/**
 * The budget on the native `tensorflow` backend, which has no 4 GiB heap and runs faster with larger
 * micro-batches (fewer kernel launches per image: vit-mini 114 → 136 → 139 images/s at micro-batch
 * 32 → 64 → 128). Its peak RSS runs at about 0.55 GB + 37 MB per vit-tiny image (2.9 GB at 64, 5.0 GB
 * at 128, measured by `pnpm bench`): 2 GiB of estimated activations (vit-tiny 59 images, vit-mini
 * the whole batch of 128) keeps it within 2× of PyTorch's 2.05 GB for the whole vit-tiny batch.
 */
export const NATIVE_MEMORY_BUDGET = 2 * 1024 ** 3;

/** The activation budget for the active backend. */
export function defaultMemoryBudget(backend: string = tf.getBackend()): number {
  return backend === 'tensorflow' ? NATIVE_MEMORY_BUDGET : DEFAULT_MEMORY_BUDGET;
}

export interface LocalGradientEngineOptions {
  /** Images per forward/backward pass; default: as many as fit `memoryBudget`. */
  microBatchSize?: number | undefined;
  /** Bytes of activations one micro-batch may use when `microBatchSize` is not given (default: `defaultMemoryBudget()`). */
  memoryBudget?: number | undefined;
}

/**
 * Computes gradients on this thread. A batch larger than the micro-batch is split; each
 * micro-batch's loss is weighted by its share of the batch and the gradients are summed, so the
 * result equals one pass over the whole batch (up to float rounding), whatever memory allows.
 */
export class LocalGradientEngine implements GradientEngine {
  private readonly names = new Map<string, string>(); // variable name → parameter name
  private readonly variables: tf.Variable[];

  constructor(
    private readonly model: TrainableModel & { config?: ShapeConfig },
    private readonly opts: LocalGradientEngineOptions = {},
  ) {
    const mb = opts.microBatchSize;
    if (mb !== undefined && !(Number.isInteger(mb) && mb > 0)) {
      throw new RangeError(`LocalGradientEngine: microBatchSize must be a positive integer, got ${mb}`);
    }
    this.variables = [];
    for (const [name, v] of model.params) {
      this.names.set(v.name, name);
      this.variables.push(v);
    }
  }

  /** The micro-batch used for a batch of `batchSize` images. */
  microBatchFor(batchSize: number): number {
    if (this.opts.microBatchSize !== undefined) return Math.min(batchSize, this.opts.microBatchSize);
    const config = this.model.config;
    if (config === undefined) return batchSize;
    const perImage = trainingBytesPerImage(config);
    return Math.max(1, Math.min(batchSize, Math.floor((this.opts.memoryBudget ?? defaultMemoryBudget()) / perImage)));
  }

  async computeGradients(batch: GradientBatch, opts: GradientOptions): Promise<GradientResult> {
    const [b, h, w, c] = batch.shape;
    const pixels = h * w * c;
    if (batch.images.length !== b * pixels) {
      throw new Error(`computeGradients: images has ${batch.images.length} values, expected [${batch.shape.join(', ')}] = ${b * pixels}`);
    }
    if (batch.labels.length !== b) throw new Error(`computeGradients: ${batch.labels.length} labels for a batch of ${b}`);
    const numClasses = batch.targets ? batch.targets.length / b : 0;
    const micro = this.microBatchFor(b);
    const sums = new Map<string, tf.Tensor>();
    let loss = 0;
    for (let start = 0, part = 0; start < b; start += micro, part++) {
      const n = Math.min(micro, b - start);
      const share = n / b;
      const labels = batch.labels.subarray(start, start + n);
      const targets = batch.targets?.subarray(start * numClasses, (start + n) * numClasses);
      // Each micro-batch gets its own dropout seed; with one micro-batch it is the step's seed.
      const seed = part === 0 ? opts.seed : (Math.imul(opts.seed, 31) + part) >>> 0;
      const { value, grads } = tf.tidy(() => {
        const x = tf.tensor4d(batch.images.subarray(start * pixels, (start + n) * pixels), [n, h, w, c]); // [n, H, W, 3]
        return tf.variableGrads(() => {
          const { logits } = this.model.forward(x, { training: opts.training, seed, dropPathRate: opts.dropPathRate });
          return tf.mul(crossEntropy(logits, { labels, targets }, opts.labelSmoothing), share) as tf.Scalar;
        }, this.variables);
      });
      loss += (await value.data())[0]!;
      value.dispose();
      for (const [varName, g] of Object.entries(grads)) {
        const name = this.names.get(varName) ?? varName;
        const prev = sums.get(name);
        if (prev === undefined) {
          sums.set(name, g);
        } else {
          sums.set(name, tf.add(prev, g));
          prev.dispose();
          g.dispose();
        }
      }
    }
    return { loss, grads: sums };
  }

  dispose(): void {}
}
