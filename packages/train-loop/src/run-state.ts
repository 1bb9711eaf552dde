import fs from 'node:fs/promises';
import path from 'node:path';
import { type PreprocessOptions, Rng } from '@vitlens/core';
import type { ImageDataset } from '@vitlens/cifar10-data';
import { type ViTForImageClassification, classNames } from '@vitlens/vit-model';
import { loadCheckpoint, saveCheckpoint } from '@vitlens/vit-model/node';
import {
  EMA_DIR,
  OPTIMIZER_FILE,
  type SaveFault,
  TRAINER_STATE_FILE,
  type TrainerState,
  pruneCheckpoints,
  readOptimizerState,
  readTrainerState,
  recoverCheckpoints,
  removeStaleTemporaries,
  saveTrainingCheckpoint,
} from './checkpoint';
import type { TrainConfig } from './config';
import { WeightAverage } from './ema';
import { LocalGradientEngine } from './engine';
import { type EpochMetrics, METRICS_FILE, MetricsLog, truncateMetrics } from './metrics-log';
import type { ClassificationMetrics } from './metrics';
import { AdamW } from './optim/adamw';
import type { Optimizer } from './optim/optimizer';
import { SGD } from './optim/sgd';
import type { ScheduleOptions } from './schedule';
import type { GradientEngine } from './types';

export interface TrainProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  loss: number;
  lr: number;
  imagesPerSecond: number;
}

export interface TrainOptions {
  /** The model to train (already loaded from `resumeFrom` when resuming). */
  model: ViTForImageClassification;
  /** The training folder's images; `trainIndices` and `valIndices` pick the two splits. */
  dataset: ImageDataset;
  trainIndices: Int32Array;
  valIndices: Int32Array;
  config: TrainConfig;
  /** Where checkpoints and metrics.jsonl go. */
  outDir: string;
  /** How pixels become model input; default: the model's processor config. */
  preprocess: PreprocessOptions;
  /** Computes gradients; default `LocalGradientEngine(model, { microBatchSize })`. A given engine is not disposed here. */
  engine?: GradientEngine;
  /** A checkpoint folder written by a previous run: restores optimizer, step, epoch, RNG and best metric. */
  resumeFrom?: string;
  /** When aborted (Ctrl-C), the trainer saves a checkpoint of the current step and returns. */
  signal?: AbortSignal;
  /**
   * Return (status 'paused') once this many epochs are done, without changing the run's plan: the
   * schedule still spans `config.epochs`, so a resume continues exactly where an uninterrupted run
   * would be. A run already past it returns at once. For training in chunks and for branching a
   * later stage from an epoch checkpoint that `keep` would otherwise prune.
   */
  stopAfterEpoch?: number;
  onStep?: (p: TrainProgress) => void;
  onEpoch?: (m: EpochMetrics) => void;
  onEvalProgress?: (done: number, total: number) => void;
  log?: (message: string) => void;
  /** Test hook: fail a checkpoint save at a given stage. */
  saveFault?: SaveFault;
}

export interface TrainResult {
  step: number;
  epoch: number;
  /** 'done': all epochs or maxSteps; 'interrupted': the signal fired; 'paused': `stopAfterEpoch` was reached. */
  status: 'done' | 'interrupted' | 'paused';
  lastCheckpoint: string | null;
  best: TrainerState['best'];
  lastEval: ClassificationMetrics | null;
}

type EvalSummary = NonNullable<TrainerState['ema']>['lastEval'];

/**
 * A training run. The readonly fields are fixed when it starts; the others advance with each step
 * and epoch, and are what a checkpoint's trainer_state.json records, so a resume restores them.
 */
export interface RunState {
  readonly opts: TrainOptions;
  readonly config: TrainConfig;
  readonly log: (message: string) => void;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly schedule: ScheduleOptions;
  readonly optimizer: Optimizer;
  readonly engine: GradientEngine;
  /** The average of the weights, when `config.ema` > 0. */
  readonly ema: WeightAverage | null;
  readonly metrics: MetricsLog;
  /** Optimizer steps taken. */
  step: number;
  /** Completed epochs. */
  epoch: number;
  /** Batches at the start of the next epoch that a resumed run already trained: replayed, not trained again. */
  skipInEpoch: number;
  /** Draws each epoch's shuffle and augmentation; its state at an epoch's start replays that epoch. */
  rng: Rng;
  best: TrainerState['best'];
  lastEval: ClassificationMetrics | null;
  lastEvalSummary: TrainerState['lastEval'];
  /** The last validation of the average of the weights. */
  emaEvalSummary: EvalSummary;
  lastCheckpoint: string | null;
}

export function makeOptimizer(model: ViTForImageClassification, c: TrainConfig['optimizer']): Optimizer {
  const decay = model.decayParamNames();
  if (c.kind === 'adamw') {
    return new AdamW(model.params, { beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay, decay });
  }
  return new SGD(model.params, { momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weightDecay, decay });
}

/** Steps per epoch and the run's total, as the schedule sees them. */
export function planSteps(config: TrainConfig, trainCount: number): { stepsPerEpoch: number; totalSteps: number } {
  const stepsPerEpoch = Math.ceil(trainCount / config.batchSize);
  if (stepsPerEpoch === 0) throw new Error('train: the training split is empty (check --val-per-class against the images per class)');
  const all = stepsPerEpoch * config.epochs;
  return { stepsPerEpoch, totalSteps: config.maxSteps === null ? all : Math.min(all, config.maxSteps) };
}

export function scheduleFor(config: TrainConfig, totalSteps: number): ScheduleOptions {
  const s = config.schedule;
  return {
    kind: s.kind,
    lr: config.optimizer.lr,
    totalSteps,
    warmupSteps: s.warmupSteps ?? Math.round(s.warmupRatio * totalSteps),
    minLr: s.minLr,
  };
}

/**
 * Prepare `opts.outDir` (repairing what a crash left there), build the optimizer, the gradient
 * engine and the average of the weights, and restore the run from `opts.resumeFrom` when given.
 * `closeRun` disposes what this made.
 */
/**
 * The model must score every class of the dataset: a label at or past the classifier's width would
 * train against an all-zero target without any error.
 */
function checkLabels(model: ViTForImageClassification, dataset: ImageDataset): void {
  const modelLabels = classNames(model.config);
  if (modelLabels.length === dataset.classNames.length) return;
  const list = (names: readonly string[]) => (names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', '));
  throw new Error(
    `train: the model's classifier has ${modelLabels.length} labels (config.id2label: ${list(modelLabels)}) but the dataset ` +
      `${dataset.source} has ${dataset.classNames.length} classes (${list(dataset.classNames)}); ` +
      "build the model with one label per class, in the dataset's order (id2label from dataset.classNames)",
  );
}

export async function startRun(opts: TrainOptions): Promise<RunState> {
  const { model, config, outDir } = opts;
  checkLabels(model, opts.dataset);
  const log = opts.log ?? (() => {});
  await fs.mkdir(outDir, { recursive: true });
  for (const repair of await recoverCheckpoints(outDir)) log(repair);
  await removeStaleTemporaries(outDir);
  const { stepsPerEpoch, totalSteps } = planSteps(config, opts.trainIndices.length);
  const run: RunState = {
    opts,
    config,
    log,
    stepsPerEpoch,
    totalSteps,
    schedule: scheduleFor(config, totalSteps),
    optimizer: makeOptimizer(model, config.optimizer),
    engine: opts.engine ?? new LocalGradientEngine(model, { microBatchSize: config.microBatchSize ?? undefined }),
    ema: config.ema > 0 ? new WeightAverage(model.params, config.ema) : null,
    metrics: new MetricsLog(path.join(outDir, METRICS_FILE)),
    step: 0,
    epoch: 0,
    skipInEpoch: 0,
    rng: new Rng(config.seed),
    best: { metric: 'val_accuracy', value: null, epoch: null, step: null },
    lastEval: null,
    lastEvalSummary: undefined,
    emaEvalSummary: null,
    lastCheckpoint: null,
  };
  if (opts.resumeFrom) {
    try {
      await resumeRun(run, opts.resumeFrom);
    } catch (error) {
      // An unreadable checkpoint must not leave the optimizer's and the average's tensors behind.
      await closeRun(run);
      throw error;
    }
  }
  return run;
}

/** Restore optimizer, step, epoch, RNG, best metric and the average of the weights from checkpoint `dir`. */
async function resumeRun(run: RunState, dir: string): Promise<void> {
  const state = await readTrainerState(path.join(dir, TRAINER_STATE_FILE));
  run.optimizer.importState(await readOptimizerState(path.join(dir, OPTIMIZER_FILE)));
  run.step = state.step;
  run.epoch = state.epoch;
  run.skipInEpoch = state.stepInEpoch;
  run.rng = Rng.fromState(state.epochRngState);
  run.best = state.best;
  run.lastEvalSummary = state.lastEval;
  run.lastCheckpoint = dir;
  if (run.ema) run.emaEvalSummary = await resumeAverage(run.ema, dir, state, run.log);
  await truncateMetrics(run.metrics.file, run.step);
  const into = run.skipInEpoch ? ` (${run.skipInEpoch} batches into epoch ${run.epoch + 1})` : '';
  run.log(`resuming from ${dir}: epoch ${run.epoch}, step ${run.step}${into}`);
}

/**
 * Restore the average of the weights saved in a checkpoint's `ema/` folder. A checkpoint written
 * without one (the run enabled `ema` on resume) starts the average from the current weights.
 */
async function resumeAverage(ema: WeightAverage, dir: string, state: TrainerState, log: (message: string) => void): Promise<EvalSummary> {
  if (!state.ema) {
    log(`${dir} has no average of the weights: starting one (decay ${ema.decay}) from the current weights`);
    return null;
  }
  const saved = await loadCheckpoint(path.join(dir, EMA_DIR));
  try {
    ema.load(saved.params, state.ema.updates);
  } finally {
    saved.dispose();
  }
  return state.ema.lastEval;
}

/**
 * Save checkpoint `<outDir>/<name>` of the run as it stands (weights, `ema/`, optimizer, trainer
 * state), make it `last` (and `best` when `isBest`), and prune to `config.keep`. `stepInEpoch` and
 * `epochRngState` say where a resume picks up: that many batches into the epoch the RNG state starts.
 */
export async function saveRunCheckpoint(
  run: RunState,
  name: string,
  reason: TrainerState['reason'],
  stepInEpoch: number,
  epochRngState: TrainerState['epochRngState'],
  isBest = false,
): Promise<string> {
  const { model, outDir } = run.opts;
  const { ema } = run;
  const state: TrainerState = {
    format: 'vitlens-trainer-state',
    version: 1,
    epoch: run.epoch,
    step: run.step,
    stepInEpoch,
    epochRngState,
    best: run.best,
    reason,
    config: run.config,
    lastEval: run.lastEvalSummary,
    ...(ema ? { ema: { updates: ema.updates, lastEval: run.emaEvalSummary } } : {}),
    savedAt: new Date().toISOString(),
  };
  const dir = await saveTrainingCheckpoint({
    outDir,
    name,
    saveModel: async (d) => {
      await saveCheckpoint(model, d);
      if (ema) await ema.withAveragedWeights(model.params, () => saveCheckpoint(model, path.join(d, EMA_DIR)));
    },
    params: model.params,
    optimizer: run.optimizer.exportState(),
    state,
    best: isBest,
    fault: run.opts.saveFault,
  });
  run.lastCheckpoint = dir;
  if (run.config.keep > 0) {
    for (const removed of await pruneCheckpoints(outDir, run.config.keep)) run.log(`pruned ${removed}`);
  }
  return dir;
}

/** What `train` returns for the run as it stands. */
export function runResult(run: RunState, status: TrainResult['status']): TrainResult {
  return { step: run.step, epoch: run.epoch, status, lastCheckpoint: run.lastCheckpoint, best: run.best, lastEval: run.lastEval };
}

/** Dispose what `startRun` made; a gradient engine passed in `opts.engine` belongs to the caller. */
export async function closeRun(run: RunState): Promise<void> {
  run.ema?.dispose();
  run.optimizer.dispose();
  if (!run.opts.engine) await run.engine.dispose();
}
