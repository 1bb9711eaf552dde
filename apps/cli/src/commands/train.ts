import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { initBackend } from '@vitlens/core';
import { type ImageDataset, augmentPolicyNames, stratifiedSplit } from '@vitlens/cifar10-data';
import { loadDataset } from '@vitlens/cifar10-data/node';
import {
  type AugmentSwitch,
  RECIPE_NAMES,
  type TrainConfig,
  type TrainConfigOverrides,
  type TrainerState,
  WorkerGradientEngine,
  augmentPolicyInEpoch,
  findResumeCheckpoint,
  mixesInEpoch,
  recoverCheckpoints,
  planSteps,
  resolveTrainConfig,
  train,
  validateTrainConfig,
} from '@vitlens/train-loop';
import {
  PRESET_NAMES,
  ViTForImageClassification,
  type ViTConfig,
  classNames,
  createConfig,
  parseConfig,
  processorToPreprocessOptions,
} from '@vitlens/vit-model';
import { loadCheckpoint } from '@vitlens/vit-model/node';
import { ProgressBar } from '../progress';
import { backendOption, probability, nonNegativeInt, positiveInt, positiveNumber, nonNegativeNumber, seedInt } from './options';

export interface TrainFlags {
  data: string;
  /** Download and decoded-image cache (default VITLENS_CACHE_DIR or ~/.cache/vitlens). */
  cacheDir?: string;
  model?: string;
  config?: string;
  pretrained?: string;
  /** A recipe name; cifar-scratch when absent. */
  recipe?: string;
  epochs?: number;
  batchSize?: number;
  microBatchSize?: number;
  lr?: number;
  weightDecay?: number;
  imageSize?: number;
  valPerClass?: number;
  maxSteps?: number;
  /** Stop once this many epochs are done, keeping the run's plan (continue with --resume). */
  stopAfterEpoch?: number;
  out: string;
  resume?: boolean;
  seed?: number;
  backend?: string;
  keep?: number;
  saveEvery?: number;
  workers?: number;
  augment?: string;
  /** `--augment-after N:POLICY`, each time it is given (in the order given). */
  augmentAfter?: AugmentSwitch[];
  labelSmoothing?: number;
  mixup?: number;
  cutmix?: number;
  mixupOffEpoch?: number;
  dropPath?: number;
  ema?: number;
  progress?: boolean;
  replaceHead?: boolean;
}

const DEFAULT_RECIPE = 'cifar-scratch';

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
    augmentAfter: flags.augmentAfter,
    labelSmoothing: flags.labelSmoothing,
    mixup: flags.mixup,
    cutmix: flags.cutmix,
    mixupOffEpoch: flags.mixupOffEpoch,
    dropPath: flags.dropPath,
    ema: flags.ema,
    optimizer: { lr: flags.lr, weightDecay: flags.weightDecay },
  };
  // A recipe's pretrained checkpoint does not apply to a model chosen on the command line.
  if ((flags.model || flags.config) && flags.pretrained === undefined) overrides.pretrained = null;
  return resolveTrainConfig(flags.recipe ?? DEFAULT_RECIPE, overrides);
}

/** The flags that define a run, each with the value it sets in a run configuration. */
const RUN_DEFINING_FLAGS: ReadonlyArray<{ flag: string; given: (f: TrainFlags) => unknown; saved: (c: TrainConfig) => unknown }> = [
  { flag: '--recipe', given: (f) => f.recipe, saved: (c) => c.recipe },
  { flag: '--model', given: (f) => f.model, saved: (c) => c.model },
  { flag: '--config', given: (f) => f.config, saved: (c) => c.model },
  { flag: '--pretrained', given: (f) => f.pretrained, saved: (c) => c.pretrained },
  { flag: '--batch-size', given: (f) => f.batchSize, saved: (c) => c.batchSize },
  { flag: '--lr', given: (f) => f.lr, saved: (c) => c.optimizer.lr },
  { flag: '--weight-decay', given: (f) => f.weightDecay, saved: (c) => c.optimizer.weightDecay },
  { flag: '--image-size', given: (f) => f.imageSize, saved: (c) => c.imageSize },
  { flag: '--val-per-class', given: (f) => f.valPerClass, saved: (c) => c.valPerClass },
  { flag: '--seed', given: (f) => f.seed, saved: (c) => c.seed },
  { flag: '--augment', given: (f) => f.augment, saved: (c) => c.augment },
  { flag: '--label-smoothing', given: (f) => f.labelSmoothing, saved: (c) => c.labelSmoothing },
  { flag: '--mixup', given: (f) => f.mixup, saved: (c) => c.mixup },
  { flag: '--cutmix', given: (f) => f.cutmix, saved: (c) => c.cutmix },
  { flag: '--drop-path', given: (f) => f.dropPath, saved: (c) => c.dropPath },
];

/**
 * What `--resume` lets change: the run's length, what is kept, how each step is split, and when
 * mixing stops (for epochs not yet begun).
 */
const RESUME_MAY_CHANGE = '--epochs, --max-steps, --keep, --save-every, --ema, --micro-batch-size, --mixup-off-epoch and --augment-after';

/** How `--augment-after` switches read on the command line: `30:randaugment-m5 60:basic`. */
const formatAugmentAfter = (switches: readonly AugmentSwitch[]): string =>
  switches.length === 0 ? '(none)' : switches.map((s) => `${s.afterEpoch}:${s.policy}`).join(' ');

/**
 * Parse one `--augment-after N:POLICY` (from the epoch after N on, augment with POLICY) and add it
 * to the ones given before it.
 */
export function parseAugmentAfter(value: string, previous: AugmentSwitch[] = []): AugmentSwitch[] {
  const match = /^(\d+):(.+)$/.exec(value.trim());
  const afterEpoch = match ? Number(match[1]) : Number.NaN;
  if (!match || !(afterEpoch >= 1)) {
    throw new InvalidArgumentError(`--augment-after expects EPOCH:POLICY with EPOCH ≥ 1 (e.g. 30:randaugment-m5: epochs 31 on use randaugment-m5), got '${value}'`);
  }
  const policy = match[2]!;
  if (!augmentPolicyNames().includes(policy)) {
    throw new InvalidArgumentError(`--augment-after ${value}: '${policy}' is not a policy; valid policies are ${augmentPolicyNames().join(', ')}`);
  }
  const last = previous.at(-1);
  if (last && afterEpoch <= last.afterEpoch) {
    throw new InvalidArgumentError(`--augment-after ${value} comes after ${last.afterEpoch}:${last.policy}; give the switches in increasing epoch order`);
  }
  return [...previous, { afterEpoch, policy }];
}

/**
 * The first epoch (0-based) among those the run has begun (`state.epoch` done, and the next one
 * when `state.stepInEpoch` > 0) whose value `before` and `after` disagree on, and how many were begun.
 */
function firstBegunEpochChanged<T>(
  state: Pick<TrainerState, 'epoch' | 'stepInEpoch'>,
  before: (epochIndex: number) => T,
  after: (epochIndex: number) => T,
): { epochIndex: number | undefined; begun: number } {
  const begun = state.epoch + (state.stepInEpoch > 0 ? 1 : 0);
  for (let epochIndex = 0; epochIndex < begun; epochIndex++) {
    if (before(epochIndex) !== after(epochIndex)) return { epochIndex, begun };
  }
  return { epochIndex: undefined, begun };
}

/**
 * Throw when `--augment-after` given with `--resume` would change the augmentation of an epoch the
 * run has already begun (`state.epoch` done, and the next one when `state.stepInEpoch` > 0): only
 * the epochs still to come may change, so the resumed run stays exact.
 */
export function checkAugmentAfterChange(
  augmentAfter: AugmentSwitch[],
  saved: TrainConfig,
  state: Pick<TrainerState, 'epoch' | 'stepInEpoch'>,
  stateFile: string,
): void {
  const changed = { ...saved, augmentAfter };
  const { epochIndex, begun } = firstBegunEpochChanged(state, (e) => augmentPolicyInEpoch(saved, e), (e) => augmentPolicyInEpoch(changed, e));
  if (epochIndex === undefined) return;
  throw new Error(
    `--resume: --augment-after ${formatAugmentAfter(augmentAfter)} would augment epoch ${epochIndex + 1} with ${augmentPolicyInEpoch(changed, epochIndex)}, ` +
      `which this run has already trained with ${augmentPolicyInEpoch(saved, epochIndex)} (${stateFile}: ${begun} epoch${begun === 1 ? '' : 's'} begun); ` +
      `switch after epoch ${begun} or later (the run's switches: ${formatAugmentAfter(saved.augmentAfter)})`,
  );
}

/**
 * Throw when a `--mixup-off-epoch` given with `--resume` would change whether an epoch that the
 * run has already begun (`state.epoch` done, and the next one when `state.stepInEpoch` > 0) mixed
 * its images: only the epochs still to come may change, so the resumed run stays exact.
 */
export function checkMixupOffChange(mixupOffEpoch: number, saved: TrainConfig, state: Pick<TrainerState, 'epoch' | 'stepInEpoch'>, stateFile: string): void {
  const changed = { ...saved, mixupOffEpoch };
  const { epochIndex, begun } = firstBegunEpochChanged(state, (e) => mixesInEpoch(saved, e), (e) => mixesInEpoch(changed, e));
  if (epochIndex === undefined) return;
  const before = mixesInEpoch(saved, epochIndex);
  throw new Error(
    `--resume: --mixup-off-epoch ${mixupOffEpoch} would ${before ? 'stop' : 'restart'} mixing in epoch ${epochIndex + 1}, which this run ` +
      `has already trained ${before ? 'with' : 'without'} it (${stateFile}: ${begun} epoch${begun === 1 ? '' : 's'} begun); ` +
      `give ${begun} or more, or ${saved.mixupOffEpoch} (the run's value)`,
  );
}

/**
 * Throw when a `--resume` flag would change the run saved in `stateFile`: a resumed run keeps its
 * configuration, so a different `--lr` or `--augment` must not be dropped without a word. Flags
 * equal to the saved values (the original command repeated) are accepted.
 */
export function checkResumeFlags(flags: TrainFlags, saved: TrainConfig, stateFile: string): void {
  for (const { flag, given, saved: valueIn } of RUN_DEFINING_FLAGS) {
    const value = given(flags);
    const savedValue = valueIn(saved);
    if (value === undefined || value === savedValue) continue;
    throw new Error(
      `--resume: ${flag} ${JSON.stringify(value)} is not this run's ${JSON.stringify(savedValue)} (${stateFile}); a resumed run keeps its ` +
        `configuration and only ${RESUME_MAY_CHANGE} may change. Drop ${flag}, or start a new run from the checkpoint's weights ` +
        `with --pretrained ${path.dirname(stateFile)} and a new --out`,
    );
  }
}

/** Which policy augments which epochs: `randaugment in epochs 1–30, randaugment-m5 in epochs 31–100`. */
export function describeAugmentation(config: Pick<TrainConfig, 'augment' | 'augmentAfter' | 'epochs'>): string {
  const starts = [0, ...config.augmentAfter.map((s) => s.afterEpoch)].filter((e) => e < config.epochs);
  return starts
    .map((start, i) => {
      const end = Math.min(starts[i + 1] ?? config.epochs, config.epochs);
      const epochs = end - start === 1 ? `epoch ${end}` : `epochs ${start + 1}–${end}`;
      return `${augmentPolicyInEpoch(config, start)} in ${epochs}`;
    })
    .join(', ');
}

/** `a, b, c` for a message; long lists (ImageNet's 1000 classes) are cut. */
function listNames(names: readonly string[], max = 12): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, … (${names.length - max} more)`;
}

/**
 * Throw unless the data's classes are the checkpoint's, in the same order: training on shifted
 * labels (a renamed or added class folder) must not start silently. The message gives both lists.
 */
export function checkSameClasses(
  data: { names: readonly string[]; source: string },
  checkpoint: { names: readonly string[]; source: string; kind?: string },
  hint: string,
): void {
  const same = data.names.length === checkpoint.names.length && data.names.every((n, i) => n === checkpoint.names[i]);
  if (same) return;
  const missing = checkpoint.names.filter((n) => !data.names.includes(n));
  const extra = data.names.filter((n) => !checkpoint.names.includes(n));
  const diff = [
    missing.length > 0 ? `not in the data: ${listNames(missing, 5)}` : '',
    extra.length > 0 ? `new in the data: ${listNames(extra, 5)}` : '',
    missing.length === 0 && extra.length === 0 ? 'the same names in another order' : '',
  ].filter(Boolean);
  throw new Error(
    `the data's ${data.names.length} classes (${listNames(data.names)}) in ${data.source} are not the ${checkpoint.kind ?? 'checkpoint'}'s ` +
      `${checkpoint.names.length} (${listNames(checkpoint.names)}) in ${checkpoint.source} (${diff.join('; ')}); ${hint}`,
  );
}

/** A `--config` file, read and checked as written: nothing in it is silently replaced or ignored. */
async function readConfigFile(file: string): Promise<{ raw: Record<string, unknown>; config: ViTConfig }> {
  const text = await fs.readFile(file, 'utf8').catch((e: Error) => {
    throw new Error(`--config ${file}: ${e.message}`);
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`--config ${file}: not valid JSON (${(e as Error).message})`);
  }
  const config = parseConfig(raw, `--config ${file}`);
  const record = raw as Record<string, unknown>;
  if (record.id2label !== undefined) {
    const names = classNames(config);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) {
      throw new Error(`--config ${file}: id2label names '${twice}' for labels ${names.indexOf(twice)} and ${names.lastIndexOf(twice)}; class names must be distinct`);
    }
  }
  return { raw: record, config };
}

/**
 * The labels a `--config` file states (id2label or num_labels) must be the data's: the head is
 * built for the data's classes, so a file that says otherwise is an error, not a detail to drop.
 * Generic `LABEL_<i>` names only fix the count.
 */
function checkConfigLabels(file: string, raw: Record<string, unknown>, config: ViTConfig, dataset: ImageDataset): void {
  if (raw.id2label === undefined && raw.num_labels === undefined) return;
  const names = classNames(config);
  const generic = names.every((n, i) => n === `LABEL_${i}`);
  if (generic && names.length === dataset.classNames.length) return;
  checkSameClasses(
    { names: dataset.classNames, source: dataset.source },
    { names, source: `--config ${file}`, kind: 'config' },
    generic ? 'set num_labels to the number of class folders, or drop it' : 'make id2label the class folders in order, or drop id2label and num_labels',
  );
}

async function buildModel(
  config: TrainConfig,
  flags: TrainFlags,
  dataset: ImageDataset,
  configFile: { raw: Record<string, unknown> } | undefined,
  log: (m: string) => void,
): Promise<ViTForImageClassification> {
  const id2label = id2labelOf(dataset.classNames);
  if (config.pretrained) {
    log(`loading pretrained ${config.pretrained}`);
    const opts = { imageSize: config.imageSize, seed: config.seed };
    const loaded = await loadCheckpoint(config.pretrained, opts);
    // A bare encoder (ViTModel, DeiTModel: e.g. in21k or DINO) or a checkpoint whose head was missing
    const headless = !loaded.hasClassifier || loaded.initializedFromSeed.some((name) => name.startsWith('classifier.'));
    const theirs = classNames(loaded.config);
    const same = theirs.length === dataset.classNames.length && theirs.every((n, i) => n === dataset.classNames[i]);
    if (same && !headless) return loaded;
    // A recipe that starts from a pretrained checkpoint (ImageNet) means to train a new head.
    const replace = headless || flags.replaceHead === true || flags.pretrained === undefined;
    if (!replace) {
      loaded.dispose();
      checkSameClasses(
        { names: dataset.classNames, source: dataset.source },
        { names: theirs, source: `--pretrained ${config.pretrained}` },
        'add --replace-head to train a new classifier head for the data\'s classes (the checkpoint\'s head is dropped)',
      );
    }
    loaded.dispose();
    if (!headless) log(`replacing the ${theirs.length}-class head of ${config.pretrained} with a new one for the data's ${dataset.classNames.length} classes`);
    return loadCheckpoint(config.pretrained, { ...opts, id2label });
  }
  let vit: ViTConfig;
  if (flags.config && configFile) {
    vit = parseConfig({ ...configFile.raw, image_size: config.imageSize, id2label, label2id: undefined, num_labels: undefined }, flags.config);
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
  // Checked before anything loads: replicas are wasm/cpu backends in worker threads. On tensorflow
  // TF's own intra-op thread pool already spreads each kernel over every core.
  if ((flags.workers ?? 1) > 1 && backend.name !== 'wasm' && backend.name !== 'cpu') {
    throw new Error(
      `--workers ${flags.workers}: data-parallel workers run on the wasm or cpu backend, not '${backend.name}', whose ` +
        'kernels already use every core (TensorFlow intra-op threads: TF_NUM_INTRAOP_THREADS); drop --workers, or add --backend wasm',
    );
  }
  // More gradient threads than cores only adds copies of the model and contention.
  const cores = os.availableParallelism();
  if ((flags.workers ?? 1) > cores) {
    log(`--workers ${flags.workers}: this machine has ${cores} cores; using ${cores}`);
    flags = { ...flags, workers: cores };
  }
  let config: TrainConfig;
  let resumeFrom: string | undefined;
  let configFile: Awaited<ReturnType<typeof readConfigFile>> | undefined;
  if (flags.resume) {
    for (const repair of await recoverCheckpoints(flags.out)) log(repair);
    const found = await findResumeCheckpoint(flags.out);
    if (!found) throw new Error(`--resume: no complete checkpoint (with trainer_state.json) under ${flags.out}`);
    resumeFrom = found.dir;
    const stateFile = path.join(found.dir, 'trainer_state.json');
    // The saved configuration with the defaults of fields added since it was written.
    const saved = validateTrainConfig(structuredClone(found.state.config), stateFile);
    checkResumeFlags(flags, saved, stateFile);
    if (flags.mixupOffEpoch !== undefined) checkMixupOffChange(flags.mixupOffEpoch, saved, found.state, stateFile);
    if (flags.augmentAfter !== undefined) checkAugmentAfterChange(flags.augmentAfter, saved, found.state, stateFile);
    // The saved run configuration keeps the resumed run identical; only its length, what is kept,
    // how a step is split into micro-batches (the same update) and when mixing stops may change.
    config = validateTrainConfig(
      {
        ...saved,
        epochs: flags.epochs ?? saved.epochs,
        microBatchSize: flags.microBatchSize ?? saved.microBatchSize,
        maxSteps: flags.maxSteps ?? saved.maxSteps,
        keep: flags.keep ?? saved.keep,
        saveEvery: flags.saveEvery ?? saved.saveEvery,
        // An average of the weights may be started on resume (it begins at the current weights).
        ema: flags.ema ?? saved.ema,
        // Mixing may stop at another epoch, as long as no epoch already begun changes (checked above).
        mixupOffEpoch: flags.mixupOffEpoch ?? saved.mixupOffEpoch,
        // Later augmentation may change too, for epochs not yet begun (checked above).
        augmentAfter: flags.augmentAfter ?? saved.augmentAfter,
      },
      stateFile,
    );
  } else {
    configFile = flags.config === undefined ? undefined : await readConfigFile(flags.config);
    const fileSize = configFile?.raw.image_size;
    if (typeof fileSize === 'number' && fileSize !== (flags.imageSize ?? fileSize)) {
      throw new Error(`--config ${flags.config} has image_size ${fileSize} but --image-size is ${flags.imageSize}; drop one of them or make them agree`);
    }
    // The config file's image size wins over the recipe's.
    if (typeof fileSize === 'number') flags = { ...flags, imageSize: fileSize };
    config = configFromFlags(flags);
  }
  if (config.mixupOffEpoch > 0 && config.mixup === 0 && config.cutmix === 0) {
    throw new Error(`--mixup-off-epoch ${config.mixupOffEpoch}: this run mixes no images (--mixup and --cutmix are 0); drop it, or give --mixup or --cutmix`);
  }
  if (!augmentPolicyNames().includes(config.augment)) {
    throw new Error(`--augment: '${config.augment}' is not a policy; valid policies are ${augmentPolicyNames().join(', ')}`);
  }
  for (const { afterEpoch, policy } of config.augmentAfter) {
    if (!augmentPolicyNames().includes(policy)) {
      throw new Error(`--augment-after ${afterEpoch}:${policy}: '${policy}' is not a policy; valid policies are ${augmentPolicyNames().join(', ')}`);
    }
  }
  const dataset = await loadDataset(flags.data, { split: 'train', cacheDir: flags.cacheDir, log, progress: flags.progress !== false });
  if (dataset.classNames.length < 2) {
    throw new Error(
      `${dataset.source}: ${dataset.classNames.length} class (${dataset.classNames.join(', ')}); a classifier needs at least 2 class folders (<data>/train/<class>/*.jpg)`,
    );
  }
  if (configFile && flags.config) checkConfigLabels(flags.config, configFile.raw, configFile.config, dataset);
  const split = stratifiedSplit(dataset.labels, dataset.classNames.length, { valPerClass: config.valPerClass, seed: config.seed });
  log(`data: ${dataset.source}: ${split.train.length} training, ${split.val.length} validation images (${config.valPerClass} per class held out, seed ${config.seed})`);
  const model = resumeFrom ? await loadCheckpoint(resumeFrom) : await buildModel(config, flags, dataset, configFile, log);
  if (resumeFrom) {
    try {
      checkSameClasses(
        { names: dataset.classNames, source: dataset.source },
        { names: classNames(model.config), source: path.join(resumeFrom, 'config.json') },
        '--resume continues the same run on the same classes: restore the class folders, or start a new run from this checkpoint with --pretrained <checkpoint> --replace-head',
      );
    } catch (error) {
      model.dispose();
      throw new Error(`--resume: ${(error as Error).message}`);
    }
  }
  const { stepsPerEpoch, totalSteps } = planSteps(config, split.train.length);
  // What is trained: with --pretrained the checkpoint's shape, not the recipe's preset name.
  const shape = model.config;
  const what = config.pretrained || config.model;
  log(
    `training ${what} (hidden ${shape.hidden_size}, ${shape.num_hidden_layers} layers, ${shape.num_attention_heads} heads, ` +
      `patch ${shape.patch_size}; ${(model.numParams() / 1e6).toFixed(2)} M parameters) with recipe ${config.recipe}: ` +
      `${config.epochs} epochs × ${stepsPerEpoch} steps of ${config.batchSize} (${totalSteps} steps), ${config.optimizer.kind} lr ${config.optimizer.lr}; checkpoints in ${flags.out}`,
  );
  if (config.mixupOffEpoch > 0 && config.mixupOffEpoch < config.epochs) {
    log(`mixup/CutMix in epochs 1–${config.mixupOffEpoch}; epochs ${config.mixupOffEpoch + 1}–${config.epochs} train on unmixed images (--mixup-off-epoch ${config.mixupOffEpoch})`);
  }
  if (config.augmentAfter.length > 0) log(`augmentation: ${describeAugmentation(config)} (--augment-after ${formatAugmentAfter(config.augmentAfter)})`);

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
      ...(flags.stopAfterEpoch !== undefined ? { stopAfterEpoch: flags.stopAfterEpoch } : {}),
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
            (m.val_accuracy_ema != null ? ` (average of the weights: ${(100 * m.val_accuracy_ema).toFixed(2)}%)` : '') +
            `, ${m.images_per_s.toFixed(1)} img/s → ${m.checkpoint}`,
        );
      },
    });
    bar?.finish();
    if (result.status === 'interrupted') {
      log(`interrupted at step ${result.step}: checkpoint ${result.lastCheckpoint}; continue with --resume --out ${flags.out}`);
      return 130;
    }
    if (result.status === 'paused') {
      log(
        `stopped after epoch ${result.epoch} of ${config.epochs} (--stop-after-epoch ${flags.stopAfterEpoch}): checkpoint ${result.lastCheckpoint}; ` +
          `continue with --resume --out ${flags.out}`,
      );
      return 0;
    }
    const averaged = result.best.metric === 'val_accuracy_ema' ? `, average of the weights: ${path.join(flags.out, 'best', 'ema')}` : '';
    const best = result.best.value === null ? 'n/a' : `${(100 * result.best.value).toFixed(2)}% (epoch ${result.best.epoch}${averaged})`;
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
    .option('--replace-head', "with --pretrained: train a new classifier head when the data's classes are not the checkpoint's (they must match otherwise)")
    .addOption(new Option('--recipe <name>', `training recipe (default: ${DEFAULT_RECIPE})`).choices(RECIPE_NAMES as string[]))
    .option('--epochs <n>', 'epochs', positiveInt('--epochs'))
    .option('--batch-size <n>', 'images per optimizer step', positiveInt('--batch-size'))
    .option('--micro-batch-size <n>', 'images per forward/backward pass (gradient accumulation; default from a memory budget)', positiveInt('--micro-batch-size'))
    .option('--lr <x>', 'peak learning rate', positiveNumber('--lr'))
    .option('--weight-decay <x>', 'weight decay', nonNegativeNumber('--weight-decay'))
    .option('--image-size <n>', 'model input size (images are resized)', positiveInt('--image-size'))
    .option('--val-per-class <n>', 'images per class held out of the training data for validation', nonNegativeInt('--val-per-class'))
    .option('--max-steps <n>', 'stop after this many optimizer steps', positiveInt('--max-steps'))
    .option(
      '--stop-after-epoch <n>',
      "stop once N epochs are done, as Ctrl-C would but at that epoch's checkpoint and with exit code 0; unlike --max-steps it leaves the run's plan (epochs, schedule) as it is, so --resume continues it exactly",
      positiveInt('--stop-after-epoch'),
    )
    .option('--out <dir>', 'checkpoint folder', 'models/checkpoints')
    .option('--resume', `continue the run in --out from its last checkpoint with its saved configuration (only ${RESUME_MAY_CHANGE} may change)`)
    .option('--seed <n>', 'seed of the split, shuffling, augmentation, dropout and initialisation (0 to 4294967295)', seedInt('--seed'))
    .option('--cache-dir <dir>', 'download and decoded-image cache (default: $VITLENS_CACHE_DIR or ~/.cache/vitlens)')
    .addOption(backendOption())
    .option('--keep <n>', 'keep only the newest N numbered checkpoints (last and best are always kept)', nonNegativeInt('--keep'))
    .option('--save-every <n>', 'also checkpoint every N steps', nonNegativeInt('--save-every'))
    .option('--workers <n>', 'threads that compute gradients in parallel (data-parallel; 1 = this thread only)', positiveInt('--workers'), 1)
    .addOption(new Option('--augment <policy>', "augmentation policy (default: the recipe's)").choices(augmentPolicyNames()))
    .option(
      '--augment-after <epoch:policy>',
      'from the epoch after EPOCH on, augment with POLICY instead (e.g. 30:randaugment-m5; repeat it for more switches, in epoch order); with --resume it may change for epochs not yet begun',
      parseAugmentAfter,
    )
    .option('--label-smoothing <x>', 'label smoothing in [0, 1)', nonNegativeNumber('--label-smoothing'))
    .option('--mixup <alpha>', "mixup: blend each image with another of the batch by a Beta(alpha, alpha) share, and their labels alike (e.g. 0.8; 0 = off; default: the recipe's)", nonNegativeNumber('--mixup'))
    .option('--cutmix <alpha>', "CutMix: paste a box of another image of the batch, labels by area, box share from Beta(alpha, alpha) (e.g. 1; 0 = off; with --mixup each batch uses one of the two; default: the recipe's)", nonNegativeNumber('--cutmix'))
    .option(
      '--mixup-off-epoch <n>',
      "stop mixup and CutMix after epoch N: later epochs train on unmixed images with hard labels (timm's mixup_off_epoch; 0 = mix every epoch); with --resume it may change for epochs not yet begun",
      nonNegativeInt('--mixup-off-epoch'),
    )
    .option('--drop-path <rate>', "stochastic depth: each image skips a layer's attention or MLP branch with this probability at the last layer, linearly less at earlier ones (e.g. 0.1; 0 = off; in [0, 1))", probability('--drop-path'))
    .option('--ema <decay>', "keep an exponential moving average of the weights with this decay (e.g. 0.999; 0 = none; default: the recipe's), validated each epoch and saved in each checkpoint's ema/ folder", nonNegativeNumber('--ema'))
    .option('--no-progress', 'no download/decoding progress bars')
    .action(async (flags: TrainFlags) => {
      const created = !(await fs.stat(flags.out).then(
        () => true,
        () => false,
      ));
      let code: number;
      try {
        code = await runTrain(flags);
      } catch (error) {
        // A run that failed before writing anything leaves no empty --out folder behind.
        if (created) await fs.rmdir(flags.out).catch(() => {});
        throw error;
      }
      // runCli turns a CommanderError into the process exit code (130 = stopped by Ctrl-C).
      if (code !== 0) throw new CommanderError(code, 'vitlens.train.interrupted', 'interrupted');
    });
}
