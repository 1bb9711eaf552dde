import type { AttentionData, AttentionMap, HeadFusion } from '@vitlens/attention-viz';
import type { ImageSource, tf } from '@vitlens/core';
import type { ModelFromFilesOptions } from '../checkpoint';
import type { Geometry, ViTConfig } from '../config';
import type { VisionTransformer } from '../model';

/**
 * An image the pipeline takes: an `RgbImage` (`decodeImage`'s output), RGBA pixels or `ImageData`,
 * a browser image (`<img>`, `<canvas>`, `OffscreenCanvas`, `ImageBitmap`), or a tensor of pixel
 * values 0..255, `[H, W, 3]` or `[1, H, W, 3]`. Any size: it is preprocessed as the checkpoint's
 * `preprocessor_config.json` says. An image object with a string `source` (a file name) is named by
 * it in error messages.
 */
export type ImageInput = ImageSource | tf.Tensor3D | tf.Tensor4D;

/** The contents of a checkpoint folder, already read (e.g. files a user dropped on a page). */
export interface CheckpointFiles {
  config: unknown;
  processor?: unknown;
  weights: Uint8Array;
  /** Named in error messages. */
  source?: string;
}

/**
 * What `load` loads: a checkpoint folder's path (Node), the URL of a folder served over HTTP (any
 * runtime with `fetch`), the files of a checkpoint, or a model already built.
 */
export type ModelSource = string | URL | CheckpointFiles | VisionTransformer;

export interface LoadOptions extends ModelFromFilesOptions {
  /** Run one blank image through the model before returning, so the first real call is not slow (default true). */
  warmup?: boolean;
  /** The `fetch` used for URLs (default: the global one). */
  fetch?: typeof fetch;
}

/** One class and its probability. */
export interface Classification {
  classIndex: number;
  label: string;
  probability: number;
}

/** Everything a classifier says about one image. */
export interface Prediction {
  /** The most probable classes, most probable first (ties: the lower index first). */
  top: Classification[];
  /** The raw logits, in class-index order. */
  logits: Float32Array;
  /** softmax(logits) in float64, in class-index order. */
  probabilities: Float64Array;
}

export interface ClassifyOptions {
  /** How many classes (default 5, or every class when the model has fewer). */
  topk?: number;
}

export interface ExplainOptions {
  /** The class the gradient-weighted map explains (default: the predicted one). Classifiers only. */
  classIndex?: number;
  /** Compute attention gradients and the gradient-weighted map (a backward pass; default true). */
  gradient?: boolean;
  /** How many classes `predictions` lists (default 5, or every class when the model has fewer). */
  topk?: number;
  /** The token whose attention row the maps read: 0 = CLS (default), 1 = DeiT's distillation token. */
  query?: number;
  /** How heads are combined for the CLS maps and rollout (default 'mean'). */
  fusion?: HeadFusion;
  /** One head alone, for the CLS maps and rollout, instead of fusing. */
  head?: number;
  /** Rollout: drop this share of the lowest attentions per layer (vit-explain's discard_ratio; default 0). */
  discardRatio?: number;
}

/** One image's attention and the maps drawn from it (each map `gridHeight × gridWidth`, row-major). */
export interface Explanation {
  /**
   * Every layer's post-softmax attention as Float32Array `[heads, T, T]`, and with `gradient`, the
   * gradient of the target (the class logit; a headless model: ‖CLS embedding‖) with respect to it,
   * same layout: `@vitlens/attention-viz`'s `AttentionData`.
   */
  attention: AttentionData;
  /** The query token's attention over the patches, per layer (heads fused by `fusion`). */
  readonly cls: AttentionMap[];
  /** Attention rollout over all layers. */
  readonly rollout: AttentionMap;
  /** The gradient-weighted map (Chefer et al. 2021); undefined with `gradient: false`. */
  readonly gradient: AttentionMap | undefined;
  /** The most probable classes; empty for a model without a classifier. */
  predictions: Classification[];
  /** Classifiers: the raw logits and their softmax. */
  logits?: Float32Array;
  probabilities?: Float64Array;
  /** Classifiers: the class the gradient map explains. */
  classIndex?: number;
  /** Models without a classifier (DINO): ‖CLS embedding‖₂, the gradient map's target. */
  embeddingNorm?: number;
}

/** A model's image embedding (HF `last_hidden_state[:, 0]` and `pooler_output`). */
export interface Embedding {
  /** The CLS token of the final LayerNorm's output: DINO's image feature, `[hidden_size]`. */
  clsEmbedding: Float32Array;
  /** tanh(dense(CLS)), when the checkpoint has a pooler. */
  poolerOutput?: Float32Array;
}

/** What `load` returns: the model behind one set of calls for every program. */
export interface ViTPipeline {
  readonly model: VisionTransformer;
  readonly config: ViTConfig;
  /** Where it was loaded from (a folder, a URL, 'files', 'model'). */
  readonly source: string;
  /** False for headless encoders (DINO): `classify`/`predict` throw, `explain` and `embed` work. */
  readonly hasClassifier: boolean;
  /** Class names in index order; empty without a classifier. */
  readonly labels: readonly string[];
  /** The token grid (`geometry(config)`). */
  readonly geometry: Geometry;
  /** The `topk` most probable classes of one image. */
  classify(image: ImageInput, options?: ClassifyOptions): Promise<Classification[]>;
  /** Top classes, logits and probabilities of several images, in one forward pass. */
  predict(images: readonly ImageInput[], options?: ClassifyOptions): Promise<Prediction[]>;
  /** Attention of every layer, its maps and (by default) the gradient-weighted map of one image. */
  explain(image: ImageInput, options?: ExplainOptions): Promise<Explanation>;
  /** The CLS embedding (and pooler output) of one image. */
  embed(image: ImageInput): Promise<Embedding>;
  /** Free the model's weights when `load` built the model (a model passed in stays the caller's). */
  dispose(): void;
}
