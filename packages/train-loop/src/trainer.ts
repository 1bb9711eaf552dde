import { Rng } from '@vitlens/core';
import { type Batch, batchIterator } from '@vitlens/cifar10-data';
import { type TrainerState, epochDirName, stepDirName } from './checkpoint';
import { clipByGlobalNorm } from './clip';
import { augmentPolicyInEpoch, mixesInEpoch } from './config';
import { evaluateModel } from './evaluate';
import type { EpochMetrics, StepMetrics } from './metrics-log';
import type { ClassificationMetrics } from './metrics';
import { type RunState, type TrainOptions, type TrainResult, closeRun, runResult, saveRunCheckpoint, startRun } from './run-state';
import { learningRateAt } from './schedule';

/** Where an epoch stopped and what it trained, for its checkpoint and its `metrics.jsonl` line. */
interface EpochEnd {
  /** Every batch of the epoch was seen (false when `maxSteps` cut it short). */
  complete: boolean;
  /** Batches of the epoch seen, replayed ones included. */
  stepInEpoch: number;
  /** The RNG state the epoch started from: a resume replays the epoch from it. */
  epochRngState: TrainerState['epochRngState'];
  /** `performance.now()` when the epoch's batches started. */
  started: number;
  /** Steps trained in this epoch (replayed batches not counted), their images and summed loss. */
  steps: number;
  images: number;
  lossSum: number;
}

/** The dropout seed of optimizer step `step`: a function of the run seed and the step only. */
export function dropoutSeed(seed: number, step: number): number {
  return new Rng(`${seed}:dropout:${step}`).nextUint32();
}

/**
 * Train with checkpoints: each epoch ends with validation on `valIndices` and a checkpoint
 * `<outDir>/epoch-NNN` (HF files + optimizer.safetensors + trainer_state.json), `last` and `best`
 * updated; `saveEvery` adds `step-NNNNNNN` checkpoints. Everything random derives from
 * `config.seed` and the step, so a resumed run ends with the same weights as an uninterrupted one.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const stopAfter = opts.stopAfterEpoch;
  if (stopAfter !== undefined && !(Number.isInteger(stopAfter) && stopAfter >= 1)) {
    throw new RangeError(`train: stopAfterEpoch must be an integer ≥ 1, got ${stopAfter}`);
  }
  const run = await startRun(opts);
  try {
    while (run.epoch < run.config.epochs && run.step < run.totalSteps) {
      if (stopAfter !== undefined && run.epoch >= stopAfter) return runResult(run, 'paused');
      if ((await runEpoch(run)) === 'interrupted') return runResult(run, 'interrupted');
    }
    return runResult(run, 'done');
  } finally {
    await closeRun(run);
  }
}

/**
 * Train the next epoch (its remainder after a resume, or up to `totalSteps`), then validate and
 * checkpoint it. Returns 'interrupted' when the signal fired; the run's last checkpoint then
 * holds the current step.
 */
async function runEpoch(run: RunState): Promise<'ended' | 'interrupted'> {
  const { opts, config } = run;
  const epochRngState = run.rng.getState();
  const mixing = mixesInEpoch(config, run.epoch);
  const batches = batchIterator(opts.dataset, opts.trainIndices, {
    batchSize: config.batchSize,
    preprocess: opts.preprocess,
    shuffle: true,
    rng: run.rng,
    augment: augmentPolicyInEpoch(config, run.epoch),
    mixup: mixing ? config.mixup : 0,
    cutmix: mixing ? config.cutmix : 0,
  });
  const end: EpochEnd = { complete: false, stepInEpoch: 0, epochRngState, started: performance.now(), steps: 0, images: 0, lossSum: 0 };
  for await (const batch of batches) {
    if (end.stepInEpoch < run.skipInEpoch) {
      batch.images.dispose(); // replayed only to keep the augmentation stream identical
      end.stepInEpoch++;
      continue;
    }
    if (run.step >= run.totalSteps) {
      batch.images.dispose();
      break;
    }
    const { line, batchSize } = await trainStep(run, batch);
    end.stepInEpoch++;
    end.steps++;
    end.lossSum += line.loss * batchSize;
    end.images += batchSize;
    opts.onStep?.({
      step: run.step,
      totalSteps: run.totalSteps,
      epoch: run.epoch + 1,
      epochs: config.epochs,
      stepInEpoch: end.stepInEpoch,
      stepsPerEpoch: run.stepsPerEpoch,
      loss: line.loss,
      lr: line.lr,
      imagesPerSecond: line.images_per_s,
    });
    const epochDone = end.stepInEpoch === batches.length;
    if (opts.signal?.aborted && !epochDone) {
      await stopAtInterrupt(run, batches, end);
      return 'interrupted';
    }
    if (config.saveEvery > 0 && run.step % config.saveEvery === 0 && !epochDone && run.step < run.totalSteps) {
      await saveRunCheckpoint(run, stepDirName(run.step), 'step', end.stepInEpoch, epochRngState);
    }
  }
  run.skipInEpoch = 0;
  end.complete = end.stepInEpoch === batches.length;
  await evaluateAndCheckpoint(run, end);
  return opts.signal?.aborted ? 'interrupted' : 'ended';
}

/**
 * One optimizer step on `batch`: gradients, clipping, the update and the average of the weights;
 * then the step's line in `metrics.jsonl`. Throws when the loss is not finite.
 */
async function trainStep(run: RunState, batch: Batch): Promise<{ line: StepMetrics; batchSize: number }> {
  const { config, engine, optimizer } = run;
  const t0 = performance.now();
  const images = (await batch.images.data()) as Float32Array;
  const shape = batch.images.shape as [number, number, number, number];
  batch.images.dispose();
  const { loss, grads } = await engine.computeGradients(
    { images, shape, labels: batch.labels, targets: batch.targets },
    { training: true, labelSmoothing: config.labelSmoothing, seed: dropoutSeed(config.seed, run.step), dropPathRate: config.dropPath },
  );
  let gradNorm: number | null = null;
  const lr = learningRateAt(run.schedule, run.step);
  try {
    if (config.clipNorm > 0) gradNorm = clipByGlobalNorm(grads, config.clipNorm);
    optimizer.applyGradients(grads, lr);
  } finally {
    for (const g of grads.values()) g.dispose();
  }
  run.ema?.update(run.opts.model.params);
  await engine.weightsUpdated?.();
  if (!Number.isFinite(loss)) throw new Error(`train: the loss is ${loss} at step ${run.step + 1}; lower --lr or check the data`);
  run.step++;
  const seconds = (performance.now() - t0) / 1000;
  const line: StepMetrics = {
    type: 'step',
    step: run.step,
    epoch: run.epoch + 1,
    loss,
    lr,
    images_per_s: shape[0] / seconds,
    grad_norm: gradNorm,
    time: new Date().toISOString(),
  };
  await run.metrics.append(line);
  return { line, batchSize: shape[0] };
}

/** Ctrl-C mid-epoch: stop reading batches and checkpoint the current step, so a resume picks up at the next batch. */
async function stopAtInterrupt(run: RunState, batches: AsyncIterator<Batch>, end: EpochEnd): Promise<void> {
  await batches.return?.();
  const dir = await saveRunCheckpoint(run, stepDirName(run.step), 'interrupt', end.stepInEpoch, end.epochRngState);
  run.log(`interrupted: saved ${dir}`);
}

/**
 * The end of an epoch: validate the weights (and their average), update `best`, checkpoint
 * (`epoch-NNN` for a complete epoch, `step-NNNNNNN` when `maxSteps` cut it short) and write the
 * epoch's line in `metrics.jsonl`.
 */
async function evaluateAndCheckpoint(run: RunState, end: EpochEnd): Promise<void> {
  const m = await validate(run);
  const mEma = await validateAverage(run);
  // `best` names the checkpoint holding the best model so far, its raw weights or their average
  // (ema/): ranking by the raw weights alone let `keep` prune the best average.
  const score = m === null ? null : mEma !== null && mEma.accuracy > m.accuracy ? { metric: 'val_accuracy_ema' as const, value: mEma.accuracy } : { metric: 'val_accuracy' as const, value: m.accuracy };
  const improved = score !== null && (run.best.value === null || score.value > run.best.value);
  if (score !== null && improved) run.best = { ...score, epoch: run.epoch + 1, step: run.step };
  if (end.complete) run.epoch++;
  const seconds = (performance.now() - end.started) / 1000;
  const isBest = improved || run.best.value === null;
  // Mid-epoch end (maxSteps): resume would replay this epoch from `epochRngState`.
  const dir = end.complete
    ? await saveRunCheckpoint(run, epochDirName(run.epoch), 'epoch', 0, run.rng.getState(), isBest)
    : await saveRunCheckpoint(run, stepDirName(run.step), 'final', end.stepInEpoch, end.epochRngState, isBest);
  const summary: EpochMetrics = {
    type: 'epoch',
    epoch: end.complete ? run.epoch : run.epoch + 1,
    step: run.step,
    train_loss: end.steps > 0 ? end.lossSum / end.images : Number.NaN,
    val_loss: m?.meanLoss ?? null,
    val_accuracy: m?.accuracy ?? null,
    val_top5: m?.top5 ?? null,
    ...(run.ema ? { val_loss_ema: mEma?.meanLoss ?? null, val_accuracy_ema: mEma?.accuracy ?? null } : {}),
    images_per_s: end.images / seconds,
    seconds,
    checkpoint: dir,
    time: new Date().toISOString(),
  };
  await run.metrics.append(summary);
  run.opts.onEpoch?.(summary);
}

/** Validate the weights on `valIndices` (null without a validation split); records the result in the run. */
async function validate(run: RunState): Promise<ClassificationMetrics | null> {
  const { opts } = run;
  if (opts.valIndices.length === 0) return null;
  const m = await evaluateModel(opts.model, opts.dataset, opts.valIndices, {
    batchSize: run.config.evalBatchSize,
    preprocess: opts.preprocess,
    onProgress: opts.onEvalProgress ? (d, t) => opts.onEvalProgress!(d, t) : undefined,
  });
  run.lastEval = m;
  run.lastEvalSummary = { loss: m.meanLoss, accuracy: m.accuracy, epoch: run.epoch + 1 };
  return m;
}

/** Validate the average of the weights, when the run keeps one. */
async function validateAverage(run: RunState): Promise<ClassificationMetrics | null> {
  const { opts, ema } = run;
  if (!ema || opts.valIndices.length === 0) return null;
  const m = await ema.withAveragedWeights(opts.model.params, () =>
    evaluateModel(opts.model, opts.dataset, opts.valIndices, { batchSize: run.config.evalBatchSize, preprocess: opts.preprocess }),
  );
  run.emaEvalSummary = { loss: m.meanLoss, accuracy: m.accuracy, epoch: run.epoch + 1 };
  return m;
}
