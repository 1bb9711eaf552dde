import { tf } from '@vitlens/core';
import type { VisionTransformer } from '@vitlens/vit-model';
import { WORKING_MAX_SIDE, readImageOrSkip } from '../images';
import { type UnreadableOptions, imageToInput } from './predict';

/** What `vitlens predict --json` prints per image for a model without a classifier (e.g. DINO). */
export interface ImageEmbedding {
  image: string;
  /** The CLS token of the final LayerNorm's output (HF `last_hidden_state[:, 0]`): DINO's image feature. */
  clsEmbedding: number[];
  /** HF's `pooler_output` (tanh(dense(CLS))), when the checkpoint has a pooler. */
  poolerOutput?: number[];
}

/** The one sentence predict prints for a headless checkpoint. */
export function noClassifierMessage(model: VisionTransformer, source: string): string {
  return (
    `${source}: this ${model.architecture} has no classifier (a headless encoder such as DINO gives an embedding, not classes). ` +
    `\`--json\` prints each image's CLS embedding (${model.config.hidden_size} numbers); \`vitlens visualize\` shows its attention per head, rollout and DINO's view`
  );
}

/**
 * CLS embeddings (and pooler outputs) of image files, one image at a time. No tensors outlive the
 * call. An unreadable file throws, or with `onUnreadable` is reported and left out.
 */
export async function embedImages(model: VisionTransformer, files: readonly string[], options: UnreadableOptions = {}): Promise<ImageEmbedding[]> {
  const results: ImageEmbedding[] = [];
  for (const file of files) {
    const image = await readImageOrSkip(file, { maxSide: WORKING_MAX_SIDE, onUnreadable: options.onUnreadable });
    if (image === undefined) continue;
    const input = imageToInput(image, model); // [1, H, W, 3]
    let out: ReturnType<VisionTransformer['forwardFeatures']> | undefined;
    let cls: tf.Tensor | undefined;
    try {
      out = model.forwardFeatures(input);
      cls = tf.slice(out.lastHiddenState, [0, 0, 0], [1, 1, -1]); // [1, 1, hidden]
      results.push({
        image: file,
        clsEmbedding: Array.from(await cls.data()),
        ...(out.poolerOutput ? { poolerOutput: Array.from(await out.poolerOutput.data()) } : {}),
      });
    } finally {
      tf.dispose([input, cls, out?.lastHiddenState, out?.poolerOutput].filter((t) => t !== undefined));
    }
  }
  return results;
}
