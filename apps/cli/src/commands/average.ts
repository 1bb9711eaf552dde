import path from 'node:path';
import { initBackend } from '@vitlens/core';
import { writeJsonAtomic } from '@vitlens/core/node';
import { averageModels, averageShares, parameterDistance, type VisionTransformer } from '@vitlens/vit-model';
import { loadCheckpoint, saveCheckpoint } from '@vitlens/vit-model/node';
import { type Command, InvalidArgumentError } from 'commander';
import { AVERAGE_FILE, AVERAGE_FORMAT, type HeldOutSplit, heldOutSplitOf } from '../held-out';
import { backendOption, positiveInt } from './options';
import { holdsCheckpoint } from './widen';

export interface AverageFlags {
  checkpoints: string[];
  out: string;
  /** How much each checkpoint counts (default: equally); divided by their sum. */
  weights?: number[];
  /** Load every checkpoint at this image size (default: the first one's). */
  imageSize?: number;
  backend?: string;
}

/** What `vitlens average` did; also written to `<out>/average.json`. */
export interface AverageReport {
  format: typeof AVERAGE_FORMAT;
  version: 1;
  /** The image size of the averaged model (every source was loaded at it). */
  imageSize: number;
  sources: {
    /** As given on the command line. */
    checkpoint: string;
    /** Its share of the average (the weights divided by their sum). */
    weight: number;
    /** The image size it was trained at (its position embeddings were resized when it differs). */
    trainedImageSize: number;
    /** ‖source − average‖ / ‖average‖ over all parameters. */
    distance: number;
  }[];
  /**
   * The images every source's training held out (`vitlens evaluate --split val` uses them); null
   * when a source does not say or they held out different ones.
   */
  heldOut: { valPerClass: number; seed: number } | null;
}

/** `--weights 1,1,2`: non-negative numbers, at least one above 0. */
export function weightList(value: string): number[] {
  const weights = value.split(',').map((part) => Number(part.trim()));
  if (value.trim() === '' || weights.some((w) => !Number.isFinite(w) || w < 0)) {
    throw new InvalidArgumentError(`expected comma-separated numbers ≥ 0 (one per checkpoint, e.g. 1,1,2), got '${value}'`);
  }
  if (!weights.some((w) => w > 0)) throw new InvalidArgumentError(`at least one weight must be above 0, got '${value}'`);
  return weights;
}

/** Load every checkpoint at one image size: the first's, or `imageSize`. */
async function loadAll(checkpoints: readonly string[], imageSize: number | undefined): Promise<{ models: VisionTransformer[]; trainedSizes: number[] }> {
  const models: VisionTransformer[] = [];
  const trainedSizes: number[] = [];
  try {
    for (const checkpoint of checkpoints) {
      let model = await loadCheckpoint(checkpoint);
      trainedSizes.push(model.config.image_size);
      const target = imageSize ?? models[0]?.config.image_size ?? model.config.image_size;
      if (model.config.image_size !== target) {
        model.dispose();
        model = await loadCheckpoint(checkpoint, { imageSize: target });
      }
      models.push(model);
    }
    return { models, trainedSizes };
  } catch (error) {
    for (const model of models) model.dispose();
    throw error;
  }
}

/** The one split all sources held out, or null (with why, for the log) when they do not agree or one does not say. */
async function commonHeldOut(checkpoints: readonly string[]): Promise<{ heldOut: AverageReport['heldOut']; why?: string }> {
  const splits: (HeldOutSplit | undefined)[] = [];
  for (const checkpoint of checkpoints) splits.push(await heldOutSplitOf(checkpoint));
  const missing = checkpoints.find((_, i) => splits[i] === undefined);
  if (missing !== undefined) return { heldOut: null, why: `${missing} does not record the images its training held out` };
  const [first, ...rest] = splits as HeldOutSplit[];
  const other = rest.find((s) => s.valPerClass !== first!.valPerClass || s.seed !== first!.seed);
  if (other) {
    return {
      heldOut: null,
      why: `the sources held out different images (${first!.from}: ${first!.valPerClass} per class, seed ${first!.seed}; ${other.from}: ${other.valPerClass} per class, seed ${other.seed}), so each may have trained on what another held out`,
    };
  }
  return { heldOut: { valPerClass: first!.valPerClass, seed: first!.seed } };
}

/**
 * `vitlens average`: one checkpoint whose weights are the (weighted) mean of several checkpoints
 * of one model — the last epochs of a run, or runs fine-tuned from the same weights (a "model
 * soup"). Writes the HF files and `average.json` (the sources, their shares and distances, and the
 * held-out split they share, which `vitlens evaluate --split val` then uses). Refuses to overwrite
 * a checkpoint folder.
 */
export async function runAverage(flags: AverageFlags, log: (m: string) => void = () => {}): Promise<AverageReport> {
  if (flags.checkpoints.length < 2) throw new Error(`average: expected at least 2 checkpoints, got ${flags.checkpoints.length}`);
  if (flags.weights && flags.weights.length !== flags.checkpoints.length) {
    throw new Error(`--weights: expected one weight per checkpoint (${flags.checkpoints.length}), got ${flags.weights.length}`);
  }
  await initBackend({ prefer: flags.backend as never });
  const existing = await holdsCheckpoint(flags.out);
  if (existing) throw new Error(`--out ${flags.out} already holds a checkpoint (${existing}); choose a new folder (nothing was written)`);
  const { heldOut, why } = await commonHeldOut(flags.checkpoints);
  const { models, trainedSizes } = await loadAll(flags.checkpoints, flags.imageSize);
  try {
    const average = averageModels(models, { weights: flags.weights, names: flags.checkpoints });
    try {
      const shares = averageShares(models.length, flags.weights);
      const report: AverageReport = {
        format: AVERAGE_FORMAT,
        version: 1,
        imageSize: average.config.image_size,
        sources: flags.checkpoints.map((checkpoint, i) => ({
          checkpoint,
          weight: shares[i]!,
          trainedImageSize: trainedSizes[i]!,
          distance: parameterDistance(models[i]!, average),
        })),
        heldOut,
      };
      await saveCheckpoint(average, flags.out);
      await writeJsonAtomic(path.join(flags.out, AVERAGE_FILE), report);
      for (const s of report.sources) {
        const resized = s.trainedImageSize === report.imageSize ? '' : `, trained at ${s.trainedImageSize}×${s.trainedImageSize}`;
        log(`  ${s.checkpoint}: share ${(s.weight * 100).toFixed(1)}%, ${(s.distance * 100).toFixed(2)}% of the average's norm from it${resized}`);
      }
      log(`averaged ${models.length} checkpoints at ${report.imageSize}×${report.imageSize} into ${flags.out} (\`vitlens evaluate --checkpoint ${flags.out}\` measures it)`);
      if (heldOut === null) log(`note: ${AVERAGE_FILE} records no held-out split: ${why}; give \`vitlens evaluate --split val\` --val-per-class and --seed`);
      return report;
    } finally {
      average.dispose();
    }
  } finally {
    for (const model of models) model.dispose();
  }
}

export function registerAverage(program: Command): void {
  program
    .command('average')
    .description(
      "average the weights of several checkpoints of one model (a run's last epochs, or runs fine-tuned from the same weights: a \"model soup\") into one checkpoint",
    )
    .argument('<checkpoints...>', 'two or more checkpoint folders, URLs or Hub ids of one model (same architecture, sizes and classes)')
    .requiredOption('--out <dir>', 'new checkpoint folder (must not hold a checkpoint); gets the HF files and average.json')
    .option('--weights <list>', 'how much each checkpoint counts, comma-separated in their order (default: equally)', weightList)
    .option('--image-size <n>', "load every checkpoint at this image size, resizing position embeddings (default: the first checkpoint's)", positiveInt('--image-size'))
    .option('--json', 'print the report as JSON')
    .addOption(backendOption())
    .action(async (checkpoints: string[], opts: Omit<AverageFlags, 'checkpoints'> & { json?: boolean }) => {
      const report = await runAverage({ ...opts, checkpoints }, (m) => process.stderr.write(`${m}\n`));
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });
}
