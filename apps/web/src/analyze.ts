import type { AttentionData } from '@vitlens/attention-viz';
import type { Classification, ImageInput, ViTPipeline } from '@vitlens/vit-model';

/** One class of the top-5 list. */
export type Prediction = Classification;

/** What one image gives: the class probabilities and every layer's attention. */
export interface Analysis {
  /** Softmax over all classes, in class-index order (empty for a model without a classifier). */
  probabilities: Float64Array;
  /** The five most likely classes (fewer when the model has fewer), most likely first; empty without a classifier. */
  top: Prediction[];
  /** A headless model's (DINO's) ‖CLS embedding‖₂, its gradient map's target; undefined for classifiers. */
  embeddingNorm?: number;
  /** Per layer `[heads, T, T]`; `gradients` are filled by `attentionGradientsFor`. */
  attention: AttentionData;
  /** Milliseconds of the forward pass with attentions, read back (no backward pass). */
  inferenceMs: number;
}

/**
 * Run the model once, with attentions (the pipeline's `explain` without its backward pass): class
 * probabilities for a classifier, the CLS embedding's norm for a model without one (DINO).
 */
export async function analyzeImage(vit: ViTPipeline, image: ImageInput, topK = 5): Promise<Analysis> {
  const started = performance.now();
  const e = await vit.explain(image, { gradient: false, ...(vit.hasClassifier ? { topk: Math.min(topK, vit.labels.length) } : {}) });
  const inferenceMs = performance.now() - started;
  return {
    probabilities: e.probabilities ?? new Float64Array(0),
    top: e.predictions,
    ...(e.embeddingNorm !== undefined ? { embeddingNorm: e.embeddingNorm } : {}),
    attention: e.attention,
    inferenceMs,
  };
}

/**
 * Gradients of the `classIndex` logit (a model without a classifier: of its CLS embedding's norm)
 * with respect to every layer's attention, for the gradient-weighted map: Float32Array
 * `[heads, T, T]` per layer.
 */
export async function attentionGradientsFor(vit: ViTPipeline, image: ImageInput, classIndex: number): Promise<Float32Array[]> {
  const e = await vit.explain(image, vit.hasClassifier ? { classIndex, topk: 1 } : {});
  return [...(e.attention.gradients ?? [])];
}
