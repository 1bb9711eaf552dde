import fs from 'node:fs/promises';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { initBackend } from '@vitlens/core';
import { balancedHead, stratifiedSplit } from '@vitlens/cifar10-data';
import { loadDataset } from '@vitlens/cifar10-data/node';
import {
  type EvaluationReport,
  TRAINER_STATE_FILE,
  accuracyHeading,
  evaluateModel,
  reportPath,
  writeEvaluationReport,
} from '@vitlens/train-loop';
import { classNames, processorToPreprocessOptions } from '@vitlens/vit-model';
import { loadCheckpoint } from '@vitlens/vit-model/node';
import { AVERAGE_FILE, heldOutSplitOf } from '../held-out';
import { ProgressBar } from '../progress';
import { defaultCheckpointDir } from '../server/locate';
import { backendOption, nonNegativeInt, positiveInt } from './options';

export interface EvaluateFlags {
  checkpoint: string;
  data: string;
  /** Download and decoded-image cache (default VITLENS_CACHE_DIR or ~/.cache/vitlens). */
  cacheDir?: string;
  split?: string;
  valPerClass?: number;
  seed?: number;
  out: string;
  batchSize: number;
  backend?: string;
  limit?: number;
  /** Test-time augmentation: 'flip' averages each image's and its mirror's class probabilities. */
  tta?: 'none' | 'flip';
  progress?: boolean;
  /** The command line, for the report (`vitlens evaluate …`). */
  command?: string;
}

/** The images of a split to evaluate: all of it, the part `vitlens train` held out, or the rest. */
interface SplitChoice {
  split: string;
  /** Set for part of the split: `valPerClass` images per class held out with `seed`. */
  holdOut?: { valPerClass: number; seed: number; part: 'held-out' | 'trained' };
}

/**
 * Which images to evaluate. `--split val` (or `--val-per-class`) means the validation images held
 * out of the `train` split, chosen exactly as `vitlens train` chose them, and `--split trained` the
 * rest of `train`, the images it trained on (to compare fit with held-out accuracy): the per-class
 * count and seed default to the checkpoint's trainer_state.json.
 */
async function resolveSplit(flags: EvaluateFlags): Promise<SplitChoice> {
  const wantsVal = flags.split === 'val' || flags.split === 'validation' || (flags.valPerClass !== undefined && flags.split === undefined);
  const wantsTrained = flags.split === 'trained';
  if (!wantsVal && !wantsTrained) {
    if (flags.valPerClass !== undefined) {
      return { split: flags.split ?? 'test', holdOut: { valPerClass: flags.valPerClass, seed: flags.seed ?? 42, part: 'held-out' } };
    }
    return { split: flags.split ?? 'test' };
  }
  const recorded = flags.valPerClass !== undefined && flags.seed !== undefined ? undefined : await heldOutSplitOf(flags.checkpoint);
  const valPerClass = flags.valPerClass ?? recorded?.valPerClass;
  const seed = flags.seed ?? recorded?.seed;
  if (valPerClass === undefined || seed === undefined) {
    throw new Error(
      `--split ${flags.split ?? 'val'}: ${flags.checkpoint} has no ${TRAINER_STATE_FILE} (nor an ${AVERAGE_FILE} that records one split); give --val-per-class and --seed as used for training`,
    );
  }
  return { split: 'train', holdOut: { valPerClass, seed, part: wantsTrained ? 'trained' : 'held-out' } };
}

/**
 * The checkpoint as the report names it: the shipped model by its repository name (wherever the
 * installed CLI keeps its copy), any other folder relative to the working directory.
 */
function checkpointName(dir: string): string {
  return path.resolve(dir) === path.resolve(defaultCheckpointDir()) ? 'models/default (the shipped model)' : reportPath(dir);
}

/** `vitlens <args>` as a report records it: absolute paths made relative, odd arguments quoted. */
function commandLine(args: readonly string[]): string {
  const shown = args.map((a) => (path.isAbsolute(a) ? reportPath(a) : a)).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`));
  return ['vitlens', ...shown].join(' ');
}

/** `vitlens evaluate`: writes `<out>/evaluation_results.txt` and `.json`; returns the report. */
export async function runEvaluate(flags: EvaluateFlags): Promise<EvaluationReport> {
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const backend = await initBackend({ prefer: flags.backend as never });
  const stat = await fs.stat(flags.checkpoint).catch(() => null);
  if (!stat?.isDirectory()) throw new Error(`--checkpoint ${flags.checkpoint}: not a folder (expected a checkpoint folder with config.json and model.safetensors)`);
  const model = await loadCheckpoint(flags.checkpoint);
  try {
    const names = classNames(model.config);
    const { split, holdOut } = await resolveSplit(flags);
    const dataset = await loadDataset(flags.data, { split, classNames: names, cacheDir: flags.cacheDir, log, progress: flags.progress !== false });
    if (dataset.classNames.join('\n') !== names.join('\n')) {
      throw new Error(`--data ${flags.data}: classes ${dataset.classNames.join(', ')} do not match the checkpoint's ${names.join(', ')}`);
    }
    let indices: Int32Array | undefined;
    let label = split;
    let heldOut: EvaluationReport['heldOut'];
    let trainedOn: EvaluationReport['trainedOn'];
    if (holdOut) {
      const { valPerClass, seed } = holdOut;
      const parts = stratifiedSplit(dataset.labels, names.length, { valPerClass, seed });
      if (holdOut.part === 'trained') {
        indices = parts.train;
        trainedOn = { from: split, heldOutPerClass: valPerClass, seed };
        label = `trained (the images of '${split}' not held out: ${valPerClass} per class held out, seed ${seed})`;
      } else {
        indices = parts.val;
        heldOut = { from: split, perClass: valPerClass, seed };
        label = `validation (held out of '${split}': ${valPerClass} per class, seed ${seed})`;
      }
    }
    let subset: { of: number } | undefined;
    if (flags.limit !== undefined) {
      // A plain prefix of an image folder would be one class (its images are grouped by class).
      subset = { of: indices?.length ?? dataset.count };
      indices = balancedHead(dataset.labels, names.length, flags.limit, indices);
      if (indices.length === subset.of) subset = undefined; // --limit at or above the split's size: all of it
    }
    const total = indices?.length ?? dataset.count;
    log(`evaluating ${flags.checkpoint} on ${label} of ${dataset.source}: ${total} images`);
    const bar = new ProgressBar({ total, label: 'evaluate', unit: 'img' });
    const metrics = await evaluateModel(model, dataset, indices, {
      batchSize: flags.batchSize,
      preprocess: processorToPreprocessOptions(model.processor),
      tta: flags.tta ?? 'none',
      onProgress: (done, _t, running) => bar.update(done, { acc: `${(100 * running.accuracy).toFixed(2)}%` }),
    });
    bar.finish();
    const report: EvaluationReport = {
      split: label,
      ...(heldOut ? { heldOut } : {}),
      ...(trainedOn ? { trainedOn } : {}),
      ...(subset ? { subset } : {}),
      data: flags.data === 'cifar10' || flags.data === 'cifar-10' ? `cifar10 (the official binary release, '${split}')` : reportPath(dataset.source),
      checkpoint: checkpointName(flags.checkpoint),
      backend: backend.name,
      ...(flags.tta === 'flip' ? { testTimeAugmentation: 'flip' as const } : {}),
      ...(flags.command ? { command: flags.command } : {}),
      createdAt: new Date().toISOString(),
      ...metrics,
    };
    const files = await writeEvaluationReport(flags.out, report);
    process.stdout.write(`${accuracyHeading(report)}: ${(100 * report.accuracy).toFixed(2)}% (${report.count} images; top-5 ${(100 * report.top5).toFixed(2)}%)\n`);
    log(`wrote ${files.text} and ${files.json}`);
    return report;
  } finally {
    model.dispose();
  }
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a checkpoint: accuracy, top-5, per-class accuracy, confusion matrix → <out>/evaluation_results.txt/.json')
    .option('--checkpoint <dir>', 'checkpoint folder (e.g. models/checkpoints/best); default: the shipped model', defaultCheckpointDir())
    .requiredOption('--data <dir|cifar10>', "'cifar10', a cifar-10-batches-bin folder or an image folder")
    .option('--split <name>', "split to evaluate: 'test' (default), 'train', 'val' = the validation images held out of 'train' by vitlens train, or 'trained' = the rest of 'train', the images it trained on")
    .option('--val-per-class <n>', 'evaluate the images per class held out of the split (as vitlens train --val-per-class)', nonNegativeInt('--val-per-class'))
    .option('--seed <n>', 'seed of the held-out split (default: the checkpoint\'s training seed)', nonNegativeInt('--seed'))
    .option('--out <dir>', 'report folder', 'results')
    .option('--batch-size <n>', 'images per inference batch', positiveInt('--batch-size'), 64)
    .option('--limit <n>', 'evaluate only N images of the split: the first of each class in turn, so every class has an equal share', positiveInt('--limit'))
    .addOption(new Option('--tta <kind>', "test-time augmentation: 'flip' averages the class probabilities of each image and its mirror image").choices(['none', 'flip']).default('none'))
    .option('--cache-dir <dir>', 'download and decoded-image cache (default: $VITLENS_CACHE_DIR or ~/.cache/vitlens)')
    .addOption(backendOption())
    .addOption(new Option('--no-progress', 'no download/decoding progress bars'))
    .action(async (flags: EvaluateFlags) => {
      await runEvaluate({ ...flags, command: commandLine(process.argv.slice(2)) });
    });
}
