import type { ViTPipeline, VisionTransformer } from '@vitlens/vit-model';
import { WORKING_MAX_SIDE, readImageOrSkip } from '../images';
import { type UnreadableOptions, pipelineOf } from './predict';

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
export async function embedImages(
  model: VisionTransformer | ViTPipeline,
  files: readonly string[],
  options: UnreadableOptions = {},
): Promise<ImageEmbedding[]> {
  const vit = await pipelineOf(model);
  const results: ImageEmbedding[] = [];
  for (const file of files) {
    const image = await readImageOrSkip(file, { maxSide: WORKING_MAX_SIDE, onUnreadable: options.onUnreadable });
    if (image === undefined) continue;
    const { clsEmbedding, poolerOutput } = await vit.embed(image);
    results.push({ image: file, clsEmbedding: Array.from(clsEmbedding), ...(poolerOutput ? { poolerOutput: Array.from(poolerOutput) } : {}) });
  }
  return results;
}
