import { tf } from '@vitlens/core';
import type { VisionTransformer } from '@vitlens/vit-model';

/** One image's attention as typed arrays, and what the model says about the image. */
export interface ImageAttention {
  /** Per layer `[heads, T, T]`, post-softmax. */
  layers: Float32Array[];
  /** Per layer `[heads, T, T]`: d target / d attention (when asked for). */
  gradients: Float32Array[];
  /** The classifier's logits; absent for a model without a classifier. */
  logits?: Float32Array;
  /** A headless model's (DINO's) ‖CLS embedding‖₂: the gradient map's target there. */
  embeddingNorm?: number;
}

async function values(tensors: readonly tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
}

/**
 * Run one preprocessed image `[1, H, W, 3]` with attentions, and with attention gradients when
 * asked: of `classIndex`'s logit (default: the predicted class) for a classifier, of the CLS
 * embedding's norm for a headless model. Does not dispose `input`; no other tensor outlives the call.
 */
export async function imageAttention(
  model: VisionTransformer,
  input: tf.Tensor4D,
  opts: { gradients: boolean; classIndex?: number },
): Promise<ImageAttention> {
  const owned: tf.Tensor[] = [];
  try {
    if (model.hasClassifier) {
      const out = opts.gradients ? model.attentionGradients(input, opts.classIndex) : { ...model.forward(input, { outputAttentions: true }), gradients: [] };
      owned.push(out.logits, ...(out.attentions ?? []), ...out.gradients);
      return { layers: await values(out.attentions ?? []), gradients: await values(out.gradients), logits: (await out.logits.data()) as Float32Array };
    }
    if (opts.gradients) {
      const out = model.embeddingNormGradients(input);
      owned.push(out.target, ...out.attentions, ...out.gradients);
      return { layers: await values(out.attentions), gradients: await values(out.gradients), embeddingNorm: (await out.target.data())[0] as number };
    }
    const out = model.forwardFeatures(input, { outputAttentions: true });
    owned.push(out.lastHiddenState, ...(out.poolerOutput ? [out.poolerOutput] : []), ...(out.attentions ?? []));
    const norm = tf.tidy(() => tf.norm(tf.slice(out.lastHiddenState, [0, 0, 0], [1, 1, -1])));
    owned.push(norm);
    return { layers: await values(out.attentions ?? []), gradients: [], embeddingNorm: (await norm.data())[0] as number };
  } finally {
    tf.dispose(owned);
  }
}
