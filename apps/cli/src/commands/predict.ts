import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { initBackend, tf } from '@vitlens/core';
import { type ViTPipeline, type VisionTransformer, load } from '@vitlens/vit-model';
import { loadCheckpoint } from '@vitlens/vit-model/node';
export { defaultCheckpointDir } from '../server/locate';
export { softmax } from '@vitlens/vit-model';
import { type ImageFile, type UnreadableImage, WORKING_MAX_SIDE, listImageFiles, readImageOrSkip, reportUnreadable } from '../images';
import { defaultCheckpointDir } from '../server/locate';
import { embedImages, noClassifierMessage } from './embed';
import { backendOption, positiveInt } from './options';

/** One class of a prediction. */
export interface Prediction {
  label: string;
  index: number;
  probability: number;
}

/** What `vitlens predict --json` prints per image. */
export interface ImagePrediction {
  image: string;
  /** The top classes, most probable first. */
  predictions: Prediction[];
  /** The raw logits, in class-index order. */
  logits: number[];
}

/**
 * Load `--checkpoint` (a folder, an https URL of a folder, or a Hub id); without one, the shipped
 * default model, with a clear error while it is missing.
 */
export async function openCheckpoint(spec: string | undefined): Promise<VisionTransformer> {
  if (spec === undefined) {
    const dir = defaultCheckpointDir();
    if (!fs.existsSync(path.join(dir, 'config.json'))) {
      throw new Error(`no --checkpoint given and the default model is missing at ${dir} (expected config.json and model.safetensors there); pass --checkpoint <dir>`);
    }
    return loadCheckpoint(dir);
  }
  const looksLocal = spec.startsWith('.') || path.isAbsolute(spec) || spec.startsWith('~');
  if (looksLocal && !fs.existsSync(spec)) throw new Error(`--checkpoint ${spec}: no such folder`);
  return loadCheckpoint(spec);
}

/**
 * The inference calls over a model (`@vitlens/vit-model`'s `load`), for commands handed either.
 * A model passed in stays the caller's: disposing the pipeline leaves it loaded.
 */
export async function pipelineOf(model: VisionTransformer | ViTPipeline): Promise<ViTPipeline> {
  return 'classify' in model ? model : load(model, { warmup: false });
}

/** Images per forward pass: bounds memory (a ViT-B/16 batch of 16 is ~1 GB of activations) while amortising dispatch. */
export const PREDICT_BATCH = 16;

/** What a command over many images does with one it cannot read or decode. */
export interface UnreadableOptions {
  /**
   * Called for each image file that cannot be read or decoded (a corrupt JPEG, not an image, gone);
   * the others are still processed. Without it, the first such file throws its `ImageReadError`.
   */
  onUnreadable?: (skipped: UnreadableImage) => void;
}

/**
 * Classify image files (any size; each resized per the processor), `PREDICT_BATCH` at a time.
 * No tensors outlive the call. An unreadable file throws, or with `onUnreadable` is reported and
 * left out of the results.
 */
export async function predictImages(
  model: VisionTransformer | ViTPipeline,
  files: readonly string[],
  top = 5,
  options: UnreadableOptions = {},
): Promise<ImagePrediction[]> {
  const vit = await pipelineOf(model);
  const classes = vit.labels.length;
  if (vit.hasClassifier && (!Number.isInteger(top) || top <= 0 || top > classes)) {
    throw new Error(`--top ${top}: expected an integer in 1..${classes} (the model has ${classes} classes)`);
  }
  const results: ImagePrediction[] = [];
  for (let start = 0; start < files.length; start += PREDICT_BATCH) {
    // One file at a time (decoding is synchronous anyway), so skipped files are reported in order.
    const images: ImageFile[] = [];
    for (const file of files.slice(start, start + PREDICT_BATCH)) {
      const image = await readImageOrSkip(file, { maxSide: WORKING_MAX_SIDE, onUnreadable: options.onUnreadable });
      if (image !== undefined) images.push(image);
    }
    if (images.length === 0) continue;
    const predictions = await vit.predict(images, { topk: top });
    images.forEach((image, b) => {
      const p = predictions[b] as (typeof predictions)[number];
      results.push({
        image: image.source,
        predictions: p.top.map((c) => ({ label: c.label, index: c.classIndex, probability: c.probability })),
        logits: Array.from(p.logits),
      });
    });
  }
  return results;
}

interface PredictOptions {
  checkpoint?: string;
  image: string[];
  top: number;
  json?: boolean;
  backend?: string;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('classify images (JPEG/PNG, any size) with a checkpoint: top classes with probabilities')
    .option('--checkpoint <dir>', 'checkpoint folder, https URL or Hub id (default: the shipped model at <repo>/models/default)')
    .requiredOption('--image <file|dir...>', 'image files or folders of images')
    .option('--top <k>', 'how many classes to show per image', positiveInt('--top'), 5)
    .option('--json', 'print JSON: per image, predictions (label, index, probability) and the raw logits; for a model without a classifier (DINO), its CLS embedding')
    .addOption(backendOption())
    .action(async (opts: PredictOptions) => {
      await initBackend({ prefer: opts.backend as never });
      const files = await listImageFiles(opts.image);
      const model = await openCheckpoint(opts.checkpoint);
      const vit = await load(model, { warmup: false });
      // A corrupt or unreadable file is named on stderr; the others are still printed, then exit 1.
      const unreadable = reportUnreadable();
      const skipped = () => (unreadable.skipped.length > 0 ? { unreadable: unreadable.skipped } : {});
      try {
        if (!model.hasClassifier) {
          // A headless encoder (DINO): no classes to predict; its embeddings on request.
          if (!opts.json) throw new Error(noClassifierMessage(model, opts.checkpoint ?? 'the checkpoint'));
          const images = await embedImages(vit, files, unreadable);
          const about = { architecture: model.architecture, hasClassifier: false };
          process.stdout.write(`${JSON.stringify({ backend: tf.getBackend(), model: about, images, ...skipped() }, null, 2)}\n`);
        } else {
          const results = await predictImages(vit, files, opts.top, unreadable);
          if (opts.json) {
            process.stdout.write(`${JSON.stringify({ backend: tf.getBackend(), images: results, ...skipped() }, null, 2)}\n`);
          } else {
            for (const r of results) {
              const lines = r.predictions.map((p, i) => `  ${i + 1}. ${p.label.padEnd(12)} ${(p.probability * 100).toFixed(1).padStart(5)}%`);
              process.stdout.write(`${r.image}\n${lines.join('\n')}\n`);
            }
          }
        }
      } finally {
        model.dispose();
      }
      unreadable.throwIfAny(files.length);
    });
}
