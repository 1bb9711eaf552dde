import fs from 'node:fs/promises';
import path from 'node:path';
import { type Command, CommanderError, Option } from 'commander';
import { initBackend } from '@vitlens/core';
import { type ImageDataset, augmentPolicyNames, stratifiedSplit } from '@vitlens/cifar10-data';
import { loadDataset } from '@vitlens/cifar10-data/node';
import {
  RECIPE_NAMES,
  type TrainConfig,
  type TrainConfigOverrides,
  WorkerGradientEngine,
  findResumeCheckpoint,
  planSteps,
  resolveTrainConfig,
  train,
  validateTrainConfig,
} from '@vitlens/train-loop';
import {
  PRESET_NAMES,
  ViTForImageClassification,
  type ViTConfig,
  createConfig,
  parseConfig,
  processorToPreprocessOptions,
} from '@vitlens/vit-model';
import { loadCheckpoint } from '@vitlens/vit-model/node';
import { ProgressBar } from '../progress';
import { backendOption, nonNegativeInt, positiveInt, positiveNumber, nonNegativeNumber } from './options';

export interface TrainFlags {
  data: string;
  /** Download and decoded-image cache (default VITLENS_CACHE_DIR or ~/.cache/vitlens). */
  cacheDir?: string;
  model?: string;
  config?: string;
  pretrained?: string;
  recipe: string;
  epochs?: number;
  batchSize?: number;
  microBatchSize?: number;
  lr?: number;
  weightDecay?: number;
  imageSize?: number;
  valPerClass?: number;
  maxSteps?: number;
  out: string;
  resume?: boolean;
  seed?: number;
  backend?: string;
  keep?: number;
  saveEvery?: number;
  workers?: number;
  augment?: string;
  labelSmoothing?: number;
  progress?: boolean;
}

const id2labelOf = (names: string[]): Record<string, string> => Object.fromEntries(names.map((n, i) => [String(i), n]));

/** The run configuration from a recipe and the flags (flags win). */
export function configFromFlags(flags: TrainFlags): TrainConfig {
  const overrides: TrainConfigOverrides = {
    model: flags.config ?? flags.model,
    pretrained: flags.pretrained,
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    microBatchSize: flags.microBatchSize,
    imageSize: flags.imageSize,
    valPerClass: flags.valPerClass,
    maxSteps: flags.maxSteps,
    seed: flags.seed,
    keep: flags.keep,
    saveEvery: flags.saveEvery,
    augment: flags.augment,
    labelSmoothing: flags.labelSmoothing,
    optimizer: { lr: flags.lr, weightDecay: flags.weightDecay },
  };
  // A recipe's pretrained checkpoint does not apply to a model chosen on the command line.
  if ((flags.model || flags.config) && flags.pretrained === undefined) overrides.pretrained = null;
  return resolveTrainConfig(flags.recipe, overrides);
}

async function buildModel(config: TrainConfig, flags: TrainFlags, dataset: ImageDataset, log: (m: string) => void): Promise<ViTForImageClassification> {
  const id2label = id2labelOf(dataset.classNames);
  if (config.pretrained) {
    log(`loading pretrained ${config.pretrained}`);
    return loadCheckpoint(config.pretrained, { id2label, imageSize: config.imageSize, seed: config.seed });
  }
  let vit: ViTConfig;
  if (flags.config) {
    const text = await fs.readFile(flags.config, 'utf8').catch((e: Error) => {
      throw new Error(`--config ${flags.config}: ${e.message}`);
    });
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new Error(`--config ${flags.config}: not valid JSON (${(e as Error).message})`);
    }
    vit = parseConfig({ ...(raw as object), image_size: config.imageSize, id2label, label2id: undefined }, flags.config);
  } else {
    vit = createConfig(config.model, { image_size: config.imageSize, id2label });
  }
  return ViTForImageClassification.create(vit, { seed: config.seed });
}

/** `vitlens train`: returns the process exit code (130 after Ctrl-C). */
export async function runTrain(flags: TrainFlags): Promise<number> {
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const backend = await initBackend({ prefer: flags.backend as never });
  log(`backend: ${backend.name}`);
  let config: TrainConfig;
  let resumeFrom: string | undefined;
  if (flags.resume) {
    const found = await findResumeCheckpoint(flags.out);
    if (!found) throw new Error(`--resume: no complete checkpoint (with trainer_state.json) under ${flags.out}`);
    resumeFrom = found.dir;
    // The saved run configuration keeps the resumed run identical; only its length may change.
    config = validateTrainConfig(
      {
        ...found.state.config,
        epochs: flags.epochs ?? found.state.config.epochs,
        maxSteps: flags.maxSteps ?? found.state.config.maxSteps,
        keep: flags.keep ?? found.state.config.keep,
        saveEvery: flags.saveEvery ?? found.state.config.saveEvery,
      },
      `${found.dir}/trainer_state.json`,
    );
  } else {
    config = configFromFlags(flags);
  }
  if (!augmentPolicyNames().includes(config.augment)) {
    throw new Error(`--augment: '${config.augment}' is not a policy; valid policies are ${augmentPolicyNames().join(', ')}`);
  }
  const dataset = await loadDataset(flags.data, { split: 'train', cacheDir: flags.cacheDir, log, progress: flags.progress !== false });
  const split = stratifiedSplit(dataset.labels, dataset.classNames.length, { valPerClass: config.valPerClass, seed: config.seed });
  log(`data: ${dataset.source}: ${split.train.length} training, ${split.val.length} validation images (${config.valPerClass} per class held out, seed ${config.seed})`);
  const model = resumeFrom ? await loadCheckpoint(resumeFrom) : await buildModel(config, flags, dataset, log);
  const { stepsPerEpoch, totalSteps } = planSteps(config, split.train.length);
  log(
    `training ${config.model}${config.pretrained ? ` from ${config.pretrained}` : ''} with recipe ${config.recipe}: ` +
      `${config.epochs} epochs × ${stepsPerEpoch} steps of ${config.batchSize} (${totalSteps} steps), ${config.optimizer.kind} lr ${config.optimizer.lr}; checkpoints in ${flags.out}`,
  );

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      log('second Ctrl-C: exiting without a checkpoint');
      process.exit(130);
    }
    log('\nCtrl-C: saving a checkpoint of the current step (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  // --workers N > 1: data-parallel gradients on N threads (the main thread and N-1 workers, each
  // with its own wasm backend and model replica); same effective batch, same update.
  const engine =
    (flags.workers ?? 1) > 1
      ? await WorkerGradientEngine.create(model, { workers: flags.workers!, microBatchSize: config.microBatchSize ?? undefined })
      : undefined;
  if (engine) log(`gradients on ${flags.workers} threads (WorkerGradientEngine)`);
  let bar: ProgressBar | undefined;
  let barEpoch = 0;
  let evalBar: ProgressBar | undefined;
  let lastAcc: number | undefined;
  try {
    const result = await train({
      model,
      dataset,
      trainIndices: split.train,
      valIndices: split.val,
      config,
      outDir: flags.out,
      preprocess: processorToPreprocessOptions(model.processor),
      resumeFrom,
      ...(engine ? { engine } : {}),
      signal: controller.signal,
      log,
      onStep: (p) => {
        if (!bar || barEpoch !== p.epoch) {
          bar?.finish();
          barEpoch = p.epoch;
          // A run cut by --max-steps ends inside this epoch: the bar shows the steps it will do.
          const total = Math.min(p.stepsPerEpoch, p.stepInEpoch + p.totalSteps - p.step);
          bar = new ProgressBar({ total, label: `epoch ${p.epoch}/${p.epochs}`, unit: 'img' });
        }
        bar.update(p.stepInEpoch, { loss: p.loss, lr: p.lr, ...(lastAcc !== undefined ? { 'val acc': `${(100 * lastAcc).toFixed(2)}%` } : {}) }, p.stepInEpoch * config.batchSize);
      },
      onEvalProgress: (done, total) => {
        if (done === total || !evalBar) {
          bar?.finish();
          bar = undefined;
        }
        evalBar ??= new ProgressBar({ total, label: 'validate', unit: 'img' });
        evalBar.update(done, {}, done);
        if (done === total) {
          evalBar.finish();
          evalBar = undefined;
        }
      },
      onEpoch: (m) => {
        bar?.finish();
        bar = undefined;
        if (m.val_accuracy !== null) lastAcc = m.val_accuracy;
        log(
          `epoch ${m.epoch}: train loss ${m.train_loss.toFixed(4)}` +
            (m.val_accuracy !== null ? `, val loss ${m.val_loss!.toFixed(4)}, val acc ${(100 * m.val_accuracy).toFixed(2)}%` : '') +
            `, ${m.images_per_s.toFixed(1)} img/s → ${m.checkpoint}`,
        );
      },
    });
    bar?.finish();
    if (result.status === 'interrupted') {
      log(`interrupted at step ${result.step}: checkpoint ${result.lastCheckpoint}; continue with --resume --out ${flags.out}`);
      return 130;
    }
    const best = result.best.value === null ? 'n/a' : `${(100 * result.best.value).toFixed(2)}% (epoch ${result.best.epoch})`;
    log(`done: ${result.step} steps; best val acc ${best}; last checkpoint ${path.join(flags.out, 'last')}`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await engine?.dispose();
    model.dispose();
  }
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train or fine-tune a ViT on CIFAR-10 (or an image folder), with checkpoints, resume and validation')
    .requiredOption('--data <dir|cifar10>', "training data: 'cifar10' (downloaded), a cifar-10-batches-bin folder or an image folder (<root>/train/<class>/*.jpg)")
    .addOption(new Option('--model <preset>', 'model preset (default: the recipe\'s)').choices(PRESET_NAMES as string[]).conflicts('config'))
    .option('--config <file>', 'a Hugging Face ViT config.json instead of a preset')
    .option('--pretrained <checkpoint>', 'start from a checkpoint folder, URL or Hub id (e.g. google/vit-base-patch16-224)')
    .addOption(new Option('--recipe <name>', 'training recipe').choices(RECIPE_NAMES as string[]).default('cifar-scratch'))
    .option('--epochs <n>', 'epochs', positiveInt('--epochs'))
    .option('--batch-size <n>', 'images per optimizer step', positiveInt('--batch-size'))
    .option('--micro-batch-size <n>', 'images per forward/backward pass (gradient accumulation; default from a memory budget)', positiveInt('--micro-batch-size'))
    .option('--lr <x>', 'peak learning rate', positiveNumber('--lr'))
    .option('--weight-decay <x>', 'weight decay', nonNegativeNumber('--weight-decay'))
    .option('--image-size <n>', 'model input size (images are resized)', positiveInt('--image-size'))
    .option('--val-per-class <n>', 'images per class held out of the training data for validation', nonNegativeInt('--val-per-class'))
    .option('--max-steps <n>', 'stop after this many optimizer steps', positiveInt('--max-steps'))
    .option('--out <dir>', 'checkpoint folder', 'models/checkpoints')
    .option('--resume', 'continue from the last checkpoint in --out')
    .option('--seed <n>', 'seed of the split, shuffling, augmentation, dropout and initialisation', nonNegativeInt('--seed'))
    .option('--cache-dir <dir>', 'download and decoded-image cache (default: $VITLENS_CACHE_DIR or ~/.cache/vitlens)')
    .addOption(backendOption())
    .option('--keep <n>', 'keep only the newest N numbered checkpoints (last and best are always kept)', nonNegativeInt('--keep'))
    .option('--save-every <n>', 'also checkpoint every N steps', nonNegativeInt('--save-every'))
    .option('--workers <n>', 'threads that compute gradients in parallel (data-parallel; 1 = this thread only)', positiveInt('--workers'), 1)
    .addOption(new Option('--augment <policy>', "augmentation policy (default: the recipe's)").choices(augmentPolicyNames()))
    .option('--label-smoothing <x>', 'label smoothing in [0, 1)', nonNegativeNumber('--label-smoothing'))
    .option('--no-progress', 'no download/decoding progress bars')
    .action(async (flags: TrainFlags) => {
      const code = await runTrain(flags);
      // runCli turns a CommanderError into the process exit code (130 = stopped by Ctrl-C).
      if (code !== 0) throw new CommanderError(code, 'vitlens.train.interrupted', 'interrupted');
    });
}
