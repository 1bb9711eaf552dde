import fs from 'node:fs/promises';
import path from 'node:path';
import { type PreprocessOptions, Rng } from '@vitlens/core';
import { type ImageDataset, batchIterator } from '@vitlens/cifar10-data';
import type { ViTForImageClassification } from '@vitlens/vit-model';
import { loadCheckpoint, saveCheckpoint } from '@vitlens/vit-model/node';
import { writeFileAtomic } from '@vitlens/core/node';
import {
  EMA_DIR,
  OPTIMIZER_FILE,
  type SaveFault,
  TRAINER_STATE_FILE,
  type TrainerState,
  epochDirName,
  pruneCheckpoints,
  readOptimizerState,
  readTrainerState,
  recoverCheckpoints,
  removeStaleTemporaries,
  saveTrainingCheckpoint,
  stepDirName,
} from './checkpoint';
import { clipByGlobalNorm } from './clip';
import { WeightAverage } from './ema';
import type { TrainConfig } from './config';
import { LocalGradientEngine } from './engine';
import { evaluateModel } from './evaluate';
import type { ClassificationMetrics } from './metrics';
import { AdamW } from './optim/adamw';
import type { Optimizer } from './optim/optimizer';
import { SGD } from './optim/sgd';
import { type ScheduleOptions, learningRateAt } from './schedule';
import type { GradientEngine } from './types';

export const METRICS_FILE = 'metrics.jsonl';

/** One line of `metrics.jsonl` per optimizer step. */
export interface StepMetrics {
  type: 'step';
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  images_per_s: number;
  grad_norm: number | null;
  time: string;
}

/** One line of `metrics.jsonl` per completed epoch (or at the end of a run cut by maxSteps). */
export interface EpochMetrics {
  type: 'epoch';
  epoch: number;
  step: number;
  train_loss: number;
  val_loss: number | null;
  val_accuracy: number | null;
  val_top5: number | null;
  /** The same for the average of the weights, when the run keeps one (`config.ema` > 0). */
  val_loss_ema?: number | null;
  val_accuracy_ema?: number | null;
  images_per_s: number;
  seconds: number;
  checkpoint: string;
  time: string;
}

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
  /** 'done': all epochs or maxSteps; 'interrupted': the signal fired. */
  status: 'done' | 'interrupted';
  lastCheckpoint: string | null;
  best: TrainerState['best'];
  lastEval: ClassificationMetrics | null;
}

/**
 * Drop the lines of `metrics.jsonl` past `step` (and a torn last line): after a crash the resumed
 * run writes those steps again, so each step appears once. Rewritten atomically.
 */
export async function truncateMetrics(file: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return;
  }
  const kept: string[] = [];
  for (const line of text.split('\n').slice(0, -1)) {
    try {
      const at = (JSON.parse(line) as { step?: unknown }).step;
      if (typeof at === 'number' && at <= step) kept.push(line);
    } catch {
      // a line torn by the crash
    }
  }
  const next = kept.map((l) => `${l}\n`).join('');
  if (next !== text) await writeFileAtomic(file, next);
}

/**
 * Restore the average of the weights saved in a checkpoint's `ema/` folder. A checkpoint written
 * without one (the run enabled `ema` on resume) starts the average from the current weights.
 */
async function resumeAverage(
  ema: WeightAverage,
  dir: string,
  state: TrainerState,
  log: (message: string) => void,
): Promise<NonNullable<TrainerState['ema']>['lastEval']> {
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

/** The dropout seed of optimizer step `step`: a function of the run seed and the step only. */
export function dropoutSeed(seed: number, step: number): number {
  return new Rng(`${seed}:dropout:${step}`).nextUint32();
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
 * Train with checkpoints: each epoch ends with validation on `valIndices` and a checkpoint
 * `<outDir>/epoch-NNN` (HF files + optimizer.safetensors + trainer_state.json), `last` and `best`
 * updated; `saveEvery` adds `step-NNNNNNN` checkpoints. Everything random derives from
 * `config.seed` and the step, so a resumed run ends with the same weights as an uninterrupted one.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { model, dataset, config, outDir } = opts;
  const log = opts.log ?? (() => {});
  await fs.mkdir(outDir, { recursive: true });
  for (const repair of await recoverCheckpoints(outDir)) log(repair);
  await removeStaleTemporaries(outDir);
  const { stepsPerEpoch, totalSteps } = planSteps(config, opts.trainIndices.length);
  const schedule = scheduleFor(config, totalSteps);
  const optimizer = makeOptimizer(model, config.optimizer);
  const engine: GradientEngine = opts.engine ?? new LocalGradientEngine(model, { microBatchSize: config.microBatchSize ?? undefined });
  const metricsFile = path.join(outDir, METRICS_FILE);

  let step = 0;
  let epoch = 0; // completed epochs
  let skipInEpoch = 0;
  let rng = new Rng(config.seed);
  let best: TrainerState['best'] = { metric: 'val_accuracy', value: null, epoch: null, step: null };
  let lastEval: ClassificationMetrics | null = null;
  let lastEvalSummary: TrainerState['lastEval'];
  let lastCheckpoint: string | null = null;
  const ema = config.ema > 0 ? new WeightAverage(model.params, config.ema) : null;
  let emaEvalSummary: NonNullable<TrainerState['ema']>['lastEval'] = null;

  if (opts.resumeFrom) {
    const state = await readTrainerState(path.join(opts.resumeFrom, TRAINER_STATE_FILE));
    optimizer.importState(await readOptimizerState(path.join(opts.resumeFrom, OPTIMIZER_FILE)));
    step = state.step;
    epoch = state.epoch;
    skipInEpoch = state.stepInEpoch;
    rng = Rng.fromState(state.epochRngState);
    best = state.best;
    lastEvalSummary = state.lastEval;
    lastCheckpoint = opts.resumeFrom;
    if (ema) emaEvalSummary = await resumeAverage(ema, opts.resumeFrom, state, log);
    await truncateMetrics(metricsFile, step);
    log(`resuming from ${opts.resumeFrom}: epoch ${epoch}, step ${step}${skipInEpoch ? ` (${skipInEpoch} batches into epoch ${epoch + 1})` : ''}`);
  }

  const appendMetrics = (line: StepMetrics | EpochMetrics) => fs.appendFile(metricsFile, `${JSON.stringify(line)}\n`);

  const save = async (name: string, reason: TrainerState['reason'], stepInEpoch: number, epochRngState = rng.getState(), isBest = false) => {
    const state: TrainerState = {
      format: 'vitlens-trainer-state',
      version: 1,
      epoch,
      step,
      stepInEpoch,
      epochRngState,
      best,
      reason,
      config,
      lastEval: lastEvalSummary,
      ...(ema ? { ema: { updates: ema.updates, lastEval: emaEvalSummary } } : {}),
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
      optimizer: optimizer.exportState(),
      state,
      best: isBest,
      fault: opts.saveFault,
    });
    lastCheckpoint = dir;
    if (config.keep > 0) {
      for (const removed of await pruneCheckpoints(outDir, config.keep)) log(`pruned ${removed}`);
    }
    return dir;
  };

  const validate = async (): Promise<ClassificationMetrics | null> => {
    if (opts.valIndices.length === 0) return null;
    const m = await evaluateModel(model, dataset, opts.valIndices, {
      batchSize: config.evalBatchSize,
      preprocess: opts.preprocess,
      onProgress: opts.onEvalProgress ? (d, t) => opts.onEvalProgress!(d, t) : undefined,
    });
    lastEval = m;
    lastEvalSummary = { loss: m.meanLoss, accuracy: m.accuracy, epoch: epoch + 1 };
    return m;
  };

  const validateAverage = async (): Promise<ClassificationMetrics | null> => {
    if (!ema || opts.valIndices.length === 0) return null;
    const m = await ema.withAveragedWeights(model.params, () =>
      evaluateModel(model, dataset, opts.valIndices, { batchSize: config.evalBatchSize, preprocess: opts.preprocess }),
    );
    emaEvalSummary = { loss: m.meanLoss, accuracy: m.accuracy, epoch: epoch + 1 };
    return m;
  };

  try {
    while (epoch < config.epochs && step < totalSteps) {
      const epochRngState = rng.getState();
      const it = batchIterator(dataset, opts.trainIndices, {
        batchSize: config.batchSize,
        preprocess: opts.preprocess,
        shuffle: true,
        rng,
        augment: config.augment,
        mixup: config.mixup,
        cutmix: config.cutmix,
      });
      const epochStart = performance.now();
      let k = 0;
      let lossSum = 0;
      let imagesDone = 0;
      let stepsDone = 0;
      for await (const batch of it) {
        if (k < skipInEpoch) {
          batch.images.dispose(); // replayed only to keep the augmentation stream identical
          k++;
          continue;
        }
        if (step >= totalSteps) {
          batch.images.dispose();
          break;
        }
        const t0 = performance.now();
        const images = (await batch.images.data()) as Float32Array;
        const shape = batch.images.shape as [number, number, number, number];
        batch.images.dispose();
        const { loss, grads } = await engine.computeGradients(
          { images, shape, labels: batch.labels, targets: batch.targets },
          { training: true, labelSmoothing: config.labelSmoothing, seed: dropoutSeed(config.seed, step) },
        );
        let gradNorm: number | null = null;
        const lr = learningRateAt(schedule, step);
        try {
          if (config.clipNorm > 0) gradNorm = clipByGlobalNorm(grads, config.clipNorm);
          optimizer.applyGradients(grads, lr);
        } finally {
          for (const g of grads.values()) g.dispose();
        }
        ema?.update(model.params);
        await engine.weightsUpdated?.();
        if (!Number.isFinite(loss)) throw new Error(`train: the loss is ${loss} at step ${step + 1}; lower --lr or check the data`);
        step++;
        k++;
        stepsDone++;
        const seconds = (performance.now() - t0) / 1000;
        lossSum += loss * shape[0];
        imagesDone += shape[0];
        const line: StepMetrics = {
          type: 'step',
          step,
          epoch: epoch + 1,
          loss,
          lr,
          images_per_s: shape[0] / seconds,
          grad_norm: gradNorm,
          time: new Date().toISOString(),
        };
        await appendMetrics(line);
        opts.onStep?.({
          step,
          totalSteps,
          epoch: epoch + 1,
          epochs: config.epochs,
          stepInEpoch: k,
          stepsPerEpoch,
          loss,
          lr,
          imagesPerSecond: line.images_per_s,
        });
        const epochDone = k === it.length;
        if (opts.signal?.aborted && !epochDone) {
          await it.return?.();
          const dir = await save(stepDirName(step), 'interrupt', k, epochRngState);
          log(`interrupted: saved ${dir}`);
          return { step, epoch, status: 'interrupted', lastCheckpoint: dir, best, lastEval };
        }
        if (config.saveEvery > 0 && step % config.saveEvery === 0 && !epochDone && step < totalSteps) {
          await save(stepDirName(step), 'step', k, epochRngState);
        }
      }
      skipInEpoch = 0;
      const complete = k === it.length;
      const m = await validate();
      const mEma = await validateAverage();
      const improved = m !== null && (best.value === null || m.accuracy > best.value);
      if (m !== null && improved) best = { metric: 'val_accuracy', value: m.accuracy, epoch: epoch + 1, step };
      if (complete) epoch++;
      const seconds = (performance.now() - epochStart) / 1000;
      // Mid-epoch end (maxSteps): resume would replay this epoch from `epochRngState`.
      const dir = complete
        ? await save(epochDirName(epoch), 'epoch', 0, rng.getState(), improved || best.value === null)
        : await save(stepDirName(step), 'final', k, epochRngState, improved || best.value === null);
      const summary: EpochMetrics = {
        type: 'epoch',
        epoch: complete ? epoch : epoch + 1,
        step,
        train_loss: stepsDone > 0 ? lossSum / imagesDone : Number.NaN,
        val_loss: m?.meanLoss ?? null,
        val_accuracy: m?.accuracy ?? null,
        val_top5: m?.top5 ?? null,
        ...(ema ? { val_loss_ema: mEma?.meanLoss ?? null, val_accuracy_ema: mEma?.accuracy ?? null } : {}),
        images_per_s: imagesDone / seconds,
        seconds,
        checkpoint: dir,
        time: new Date().toISOString(),
      };
      await appendMetrics(summary);
      opts.onEpoch?.(summary);
      if (opts.signal?.aborted) return { step, epoch, status: 'interrupted', lastCheckpoint: dir, best, lastEval };
    }
    return { step, epoch, status: 'done', lastCheckpoint, best, lastEval };
  } finally {
    ema?.dispose();
    optimizer.dispose();
    if (!opts.engine) await engine.dispose();
  }
}
