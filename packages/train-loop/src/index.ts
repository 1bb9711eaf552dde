// Public API of @vitlens/train-loop.
import './register-gradients';

export const version = '0.1.0';
export type { GradientBatch, GradientEngine, GradientOptions, GradientResult, TrainableModel } from './types';
export { AdamW, type AdamWOptions } from './optim/adamw';
export { SGD, type SGDOptions } from './optim/sgd';
export { OPTIMIZER_KINDS, type Optimizer, type OptimizerKind, type OptimizerState } from './optim/optimizer';
export { SCHEDULE_KINDS, checkSchedule, learningRateAt, type ScheduleKind, type ScheduleOptions } from './schedule';
export { clipByGlobalNorm, globalNorm } from './clip';
export { WeightAverage } from './ema';
export { crossEntropy, crossEntropyPerExample, type LossTarget } from './loss';
export { DEFAULT_MEMORY_BUDGET, NATIVE_MEMORY_BUDGET, defaultMemoryBudget, LocalGradientEngine, trainingBytesPerImage, type LocalGradientEngineOptions, type ShapeConfig } from './engine';
export {
  RECIPES,
  RECIPE_NAMES,
  augmentPolicyInEpoch,
  mixesInEpoch,
  resolveTrainConfig,
  validateTrainConfig,
  type AugmentSwitch,
  type TrainConfig,
  type TrainConfigOverrides,
} from './config';
export {
  BEST_DIR,
  EMA_DIR,
  LAST_DIR,
  OPTIMIZER_FILE,
  TRAINER_STATE_FILE,
  TRAINING_CHECKPOINT_FILES,
  checkTrainingCheckpoint,
  epochDirName,
  findResumeCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  readOptimizerState,
  readTrainerState,
  recoverCheckpoints,
  saveTrainingCheckpoint,
  stepDirName,
  type CheckpointInfo,
  type SaveFault,
  type SaveTrainingCheckpointOptions,
  type TrainerState,
} from './checkpoint';
export { MetricsAccumulator, type ClassAccuracy, type ClassificationMetrics } from './metrics';
export { evaluateModel, type EvaluateOptions } from './evaluate';
export {
  REPORT_JSON_FILE,
  REPORT_TEXT_FILE,
  accuracyHeading,
  formatEvaluationReport,
  reportPath,
  writeEvaluationReport,
  type EvaluationReport,
} from './report';
export { METRICS_FILE, truncateMetrics, type EpochMetrics, type StepMetrics } from './metrics-log';
export { makeOptimizer, planSteps, scheduleFor, type TrainOptions, type TrainProgress, type TrainResult } from './run-state';
export { dropoutSeed, train } from './trainer';
export { WorkerGradientEngine, type WorkerGradientEngineOptions } from './parallel';
