// Public API of @vitlens/train-loop.
import './register-gradients';

export const version = '0.1.0';
export type { GradientBatch, GradientEngine, GradientOptions, GradientResult, TrainableModel } from './types';
export { AdamW, type AdamWOptions } from './optim/adamw';
export { SGD, type SGDOptions } from './optim/sgd';
export { OPTIMIZER_KINDS, type Optimizer, type OptimizerKind, type OptimizerState } from './optim/optimizer';
export { SCHEDULE_KINDS, checkSchedule, learningRateAt, type ScheduleKind, type ScheduleOptions } from './schedule';
export { clipByGlobalNorm, globalNorm } from './clip';
export { crossEntropy, crossEntropyPerExample, type LossTarget } from './loss';
