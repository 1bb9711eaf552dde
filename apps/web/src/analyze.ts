import type { AttentionData, RgbaImage } from '@vitlens/attention-viz';
import { pixelsToTensor, tf } from '@vitlens/core';
import { classNames, processorToPreprocessOptions, type ViTForImageClassification } from '@vitlens/vit-model';
import { rgbaToRgb } from './image';

export interface Prediction {
  classIndex: number;
  label: string;
  probability: number;
}

/** What one image gives: the class probabilities and every layer's attention. */
export interface Analysis {
  /** Softmax over all classes, in class-index order. */
  probabilities: Float32Array;
  /** The five most likely classes (fewer when the model has fewer), most likely first. */
  top: Prediction[];
  /** Per layer `[heads, T, T]`; `gradients` are filled by `attentionGradientsFor`. */
  attention: AttentionData;
  /** Milliseconds of the forward pass (preprocessing to probabilities read back). */
  inferenceMs: number;
}

/** The model's input for one image: `[1, H', W', 3]`, preprocessed as its processor config says. */
function modelInput(model: ViTForImageClassification, image: RgbaImage): tf.Tensor4D {
  const rgb = rgbaToRgb(image);
  return pixelsToTensor(rgb, [1, image.height, image.width, 3], processorToPreprocessOptions(model.processor));
}

function tokenGrid(model: ViTForImageClassification): { heads: number; gridHeight: number; gridWidth: number } {
  const c = model.config;
  const grid = c.image_size / c.patch_size;
  return { heads: c.num_attention_heads, gridHeight: grid, gridWidth: grid };
}

/** Run the model once, with attentions. No tensor outlives the call. */
export async function analyzeImage(model: ViTForImageClassification, image: RgbaImage, topK = 5): Promise<Analysis> {
  const started = performance.now();
  const input = modelInput(model, image);
  let out: ReturnType<ViTForImageClassification['forward']> | undefined;
  let probs: tf.Tensor2D | undefined;
  try {
    out = model.forward(input, { outputAttentions: true });
    probs = tf.softmax(out.logits); // [1, classes]
    const probabilities = (await probs.data()) as Float32Array;
    const inferenceMs = performance.now() - started;
    // [1, heads, T, T] per layer → Float32Array [heads, T, T]
    const layers = await Promise.all((out.attentions ?? []).map(async (a) => Float32Array.from(await a.data())));
    const names = classNames(model.config);
    const top = Array.from(probabilities, (probability, classIndex) => ({ classIndex, label: names[classIndex] ?? String(classIndex), probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, topK);
    return { probabilities: Float32Array.from(probabilities), top, attention: { ...tokenGrid(model), layers }, inferenceMs };
  } finally {
    tf.dispose([input, probs, out?.logits, ...(out?.attentions ?? [])].filter((t) => t !== undefined));
  }
}

/**
 * Gradients of the `classIndex` logit with respect to every layer's attention, for the
 * gradient-weighted map. Returns Float32Array `[heads, T, T]` per layer; no tensor outlives the call.
 */
export async function attentionGradientsFor(model: ViTForImageClassification, image: RgbaImage, classIndex: number): Promise<Float32Array[]> {
  const input = modelInput(model, image);
  let result: ReturnType<ViTForImageClassification['attentionGradients']> | undefined;
  try {
    result = model.attentionGradients(input, classIndex);
    return await Promise.all(result.gradients.map(async (g) => Float32Array.from(await g.data())));
  } finally {
    tf.dispose([input, ...(result ? [result.logits, ...result.attentions, ...result.gradients] : [])]);
  }
}

/** One forward pass on a blank image, so the first real timing does not include shader compilation. */
export async function warmUp(model: ViTForImageClassification): Promise<void> {
  const size = model.config.image_size;
  const blank: RgbaImage = { data: new Uint8ClampedArray(size * size * 4), width: size, height: size };
  await analyzeImage(model, blank);
}
