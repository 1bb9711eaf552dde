import type { AttentionData, RgbaImage } from '@vitlens/attention-viz';
import { pixelsToTensor, tf } from '@vitlens/core';
import { classNames, processorToPreprocessOptions, type VisionTransformer } from '@vitlens/vit-model';
import { rgbaToRgb } from './image';

export interface Prediction {
  classIndex: number;
  label: string;
  probability: number;
}

/** What one image gives: the class probabilities and every layer's attention. */
export interface Analysis {
  /** Softmax over all classes, in class-index order (empty for a model without a classifier). */
  probabilities: Float32Array;
  /** The five most likely classes (fewer when the model has fewer), most likely first; empty without a classifier. */
  top: Prediction[];
  /** A headless model's (DINO's) ‖CLS embedding‖₂, its gradient map's target; undefined for classifiers. */
  embeddingNorm?: number;
  /** Per layer `[heads, T, T]`; `gradients` are filled by `attentionGradientsFor`. */
  attention: AttentionData;
  /** Milliseconds of the forward pass (preprocessing to probabilities read back). */
  inferenceMs: number;
}

/** The model's input for one image: `[1, H', W', 3]`, preprocessed as its processor config says. */
function modelInput(model: VisionTransformer, image: RgbaImage): tf.Tensor4D {
  const rgb = rgbaToRgb(image);
  return pixelsToTensor(rgb, [1, image.height, image.width, 3], processorToPreprocessOptions(model.processor));
}

function tokenGrid(model: VisionTransformer): { heads: number; gridHeight: number; gridWidth: number; prefixTokens: number } {
  const { gridHeight, gridWidth, prefixTokens } = model.tokens;
  return { heads: model.config.num_attention_heads, gridHeight, gridWidth, prefixTokens };
}

/** The `topK` most likely classes, most likely first. */
function topClasses(model: VisionTransformer, probabilities: Float32Array, topK: number): Prediction[] {
  const names = classNames(model.config);
  return Array.from(probabilities, (probability, classIndex) => ({ classIndex, label: names[classIndex] ?? String(classIndex), probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, topK);
}

/**
 * Run the model once, with attentions: class probabilities for a classifier, the CLS embedding's
 * norm for a model without one (DINO). No tensor outlives the call.
 */
export async function analyzeImage(model: VisionTransformer, image: RgbaImage, topK = 5): Promise<Analysis> {
  const started = performance.now();
  const input = modelInput(model, image);
  const owned: tf.Tensor[] = [input];
  try {
    let probabilities = new Float32Array(0);
    let embeddingNorm: number | undefined;
    let attentions: tf.Tensor4D[];
    if (model.hasClassifier) {
      const out = model.forward(input, { outputAttentions: true });
      const probs = tf.softmax(out.logits); // [1, classes]
      owned.push(out.logits, probs, ...(out.attentions ?? []));
      probabilities = Float32Array.from((await probs.data()) as Float32Array);
      attentions = out.attentions ?? [];
    } else {
      const out = model.forwardFeatures(input, { outputAttentions: true });
      const features = out.lastHiddenState;
      const norm = tf.tidy(() => tf.norm(tf.slice(features, [0, 0, 0], [1, 1, -1]))); // ‖CLS embedding‖₂
      owned.push(features, norm, ...(out.poolerOutput ? [out.poolerOutput] : []), ...(out.attentions ?? []));
      embeddingNorm = (await norm.data())[0] as number;
      attentions = out.attentions ?? [];
    }
    const inferenceMs = performance.now() - started;
    // [1, heads, T, T] per layer → Float32Array [heads, T, T]
    const layers = await Promise.all(attentions.map(async (a) => Float32Array.from(await a.data())));
    const top = model.hasClassifier ? topClasses(model, probabilities, topK) : [];
    return { probabilities, top, ...(embeddingNorm !== undefined ? { embeddingNorm } : {}), attention: { ...tokenGrid(model), layers }, inferenceMs };
  } finally {
    tf.dispose(owned);
  }
}

/**
 * Gradients of the `classIndex` logit (a model without a classifier: of its CLS embedding's norm)
 * with respect to every layer's attention, for the gradient-weighted map. Returns Float32Array
 * `[heads, T, T]` per layer; no tensor outlives the call.
 */
export async function attentionGradientsFor(model: VisionTransformer, image: RgbaImage, classIndex: number): Promise<Float32Array[]> {
  const input = modelInput(model, image);
  let owned: tf.Tensor[] = [];
  try {
    const result = model.hasClassifier ? model.attentionGradients(input, classIndex) : model.embeddingNormGradients(input);
    owned = [...Object.values(result).flat()] as tf.Tensor[];
    return await Promise.all(result.gradients.map(async (g) => Float32Array.from(await g.data())));
  } finally {
    tf.dispose([input, ...owned]);
  }
}

/** One forward pass on a blank image, so the first real timing does not include shader compilation. */
export async function warmUp(model: VisionTransformer): Promise<void> {
  const size = model.config.image_size;
  const blank: RgbaImage = { data: new Uint8ClampedArray(size * size * 4), width: size, height: size };
  await analyzeImage(model, blank);
}
