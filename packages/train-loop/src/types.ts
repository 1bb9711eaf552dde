import type { tf } from '@vitlens/core';

/**
 * What the trainer needs from a model. `ViTForImageClassification` from `@vitlens/vit-model`
 * satisfies it; the trainer depends on this shape only, so a test can use a tiny config.
 */
export interface TrainableModel {
  /** Trainable parameters keyed by their checkpoint (Hugging Face) names. */
  readonly params: Map<string, tf.Variable>;
  /** Preprocessed `[B, H, W, 3]` float32 → `{ logits: [B, numClasses] }`; does not dispose its input. */
  forward(
    pixelValues: tf.Tensor4D,
    opts?: { training?: boolean; seed?: number; dropPathRate?: number },
  ): { logits: tf.Tensor2D; attentions?: tf.Tensor4D[]; hiddenStates?: tf.Tensor3D[] };
  /** Names of the parameters that get weight decay. */
  decayParamNames(): string[];
}

/** One batch of training data as plain arrays, so it can cross a worker boundary. */
export interface GradientBatch {
  /** `[B, H, W, 3]` preprocessed float32 pixels. */
  images: Float32Array;
  shape: [number, number, number, number];
  labels: Int32Array;
  /** `[B, C]` soft targets (mixup/cutmix); when present they replace `labels` in the loss. */
  targets?: Float32Array;
}

export interface GradientResult {
  /** Mean loss over the batch. */
  loss: number;
  /** Gradient of the mean loss for every trainable parameter; the caller disposes them. */
  grads: Map<string, tf.Tensor>;
}

export interface GradientOptions {
  training: boolean;
  labelSmoothing: number;
  /** Dropout seed for this step. */
  seed: number;
  /** Stochastic depth: the last layer's branch-skip probability (the model's `dropPathRate`); 0 when absent. */
  dropPathRate?: number;
}

/** Computes the gradients of one batch; the trainer applies them. */
export interface GradientEngine {
  computeGradients(batch: GradientBatch, opts: GradientOptions): Promise<GradientResult>;
  /** Called after each optimizer step, so replicas can copy the new weights. */
  weightsUpdated?(): Promise<void>;
  dispose(): Promise<void> | void;
}
