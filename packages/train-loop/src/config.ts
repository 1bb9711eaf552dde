import { OPTIMIZER_KINDS, type OptimizerKind } from './optim/optimizer';
import { SCHEDULE_KINDS, type ScheduleKind } from './schedule';

/** A complete, JSON-serialisable training run configuration (stored in every trainer_state.json). */
export interface TrainConfig {
  /** The recipe the values started from. */
  recipe: string;
  /** A `@vitlens/vit-model` preset name, or the path of a config.json. */
  model: string;
  /** Checkpoint folder or Hub id to start from; null trains from scratch. */
  pretrained: string | null;
  /** Model input size (images are resized to it). */
  imageSize: number;
  epochs: number;
  /** Images per optimizer step. */
  batchSize: number;
  /** Images per forward/backward pass; null picks one from a memory budget. */
  microBatchSize: number | null;
  optimizer: {
    kind: OptimizerKind;
    lr: number;
    weightDecay: number;
    beta1: number;
    beta2: number;
    eps: number;
    momentum: number;
    nesterov: boolean;
  };
  schedule: {
    kind: ScheduleKind;
    /** Warmup as a fraction of the run's steps (used when warmupSteps is null). */
    warmupRatio: number;
    warmupSteps: number | null;
    minLr: number;
  };
  /** Clip gradients to this global L2 norm; 0 disables clipping. */
  clipNorm: number;
  labelSmoothing: number;
  /** A `@vitlens/cifar10-data` augmentation policy name (of every epoch, unless `augmentAfter` changes it). */
  augment: string;
  /**
   * Later policies: from the epoch after `afterEpoch` on, epochs augment with `policy` (the last
   * switch whose `afterEpoch` has passed wins); in increasing `afterEpoch` order. Empty: `augment`
   * in every epoch. A run can start with strong augmentation and end with lighter augmentation.
   */
  augmentAfter: AugmentSwitch[];
  mixup: number;
  cutmix: number;
  /**
   * Mixup and CutMix stop after this many epochs: later epochs train on unmixed images and hard
   * labels (timm's `mixup_off_epoch`); 0 mixes every epoch.
   */
  mixupOffEpoch: number;
  /**
   * Stochastic depth: the probability of skipping a residual branch per image at the last layer,
   * scaled linearly to 0 at the first (the model's `dropPathRate`); 0 = off.
   */
  dropPath: number;
  /** Images per class held out of the training folder for validation. */
  valPerClass: number;
  seed: number;
  /** Stop after this many optimizer steps in total; null runs every epoch. */
  maxSteps: number | null;
  /** Also checkpoint every this many steps; 0 checkpoints at epoch ends only. */
  saveEvery: number;
  /** Keep only the newest N numbered checkpoints (`last` and `best` are always kept); 0 keeps all. */
  keep: number;
  evalBatchSize: number;
  /**
   * Decay of an exponential moving average of the weights, evaluated each epoch and saved in each
   * checkpoint's `ema/` folder; 0 keeps none.
   */
  ema: number;
}

/** From the epoch after `afterEpoch` (1-based: after that many epochs) on, augment with `policy`. */
export interface AugmentSwitch {
  afterEpoch: number;
  policy: string;
}

/** What a recipe may leave to the command line. */
export type TrainConfigOverrides = Partial<Omit<TrainConfig, 'optimizer' | 'schedule'>> & {
  optimizer?: Partial<TrainConfig['optimizer']>;
  schedule?: Partial<TrainConfig['schedule']>;
};

const ADAMW = { kind: 'adamw' as const, beta1: 0.9, beta2: 0.999, eps: 1e-8, momentum: 0, nesterov: false };

/** What every recipe shares: gradient clipping at 1, no mixing, no stochastic depth, 500 per class held out, seed 42. */
const RUN_DEFAULTS = {
  microBatchSize: null,
  clipNorm: 1,
  mixup: 0,
  cutmix: 0,
  mixupOffEpoch: 0,
  augmentAfter: [] as AugmentSwitch[],
  dropPath: 0,
  valPerClass: 500,
  seed: 42,
  maxSteps: null,
  saveEvery: 0,
  ema: 0,
} as const;

// From scratch on 32×32 (vit-mini / vit-tiny): DeiT-style AdamW, warmup + cosine, crop + flip,
// label smoothing 0.1. Small ViTs need strong regularisation and a high lr on CIFAR.
const CIFAR_SCRATCH: TrainConfig = {
  ...RUN_DEFAULTS,
  recipe: 'cifar-scratch',
  model: 'vit-mini-patch4-32',
  pretrained: null,
  imageSize: 32,
  epochs: 30,
  batchSize: 128,
  optimizer: { ...ADAMW, lr: 1e-3, weightDecay: 0.05 },
  schedule: { kind: 'cosine', warmupRatio: 0.05, warmupSteps: null, minLr: 1e-5 },
  labelSmoothing: 0.1,
  augment: 'basic',
  keep: 3,
  evalBatchSize: 256,
};

const SEED_FINETUNE: TrainConfig = {
  ...RUN_DEFAULTS,
  recipe: 'seed-finetune',
  model: 'vit-base-patch16-224',
  pretrained: 'google/vit-base-patch16-224',
  imageSize: 224,
  epochs: 3,
  batchSize: 16,
  optimizer: { ...ADAMW, lr: 2e-5, weightDecay: 0 },
  schedule: { kind: 'linear', warmupRatio: 0, warmupSteps: null, minLr: 0 },
  labelSmoothing: 0,
  augment: 'none',
  keep: 0,
  evalBatchSize: 16,
};

/**
 * Named presets. `seed-finetune` is the reference project: Hugging Face Trainer defaults (AdamW,
 * linear decay, no warmup, no weight decay, max_grad_norm 1) with lr 2e-5, batch 16, 224×224.
 */
export const RECIPES: Readonly<Record<string, TrainConfig>> = Object.freeze({
  'seed-finetune': SEED_FINETUNE,
  // The ViT paper's fine-tuning recipe: SGD momentum 0.9, no weight decay, cosine, clip 1.
  'sgd-finetune': {
    ...SEED_FINETUNE,
    recipe: 'sgd-finetune',
    batchSize: 64,
    optimizer: { ...ADAMW, kind: 'sgd', lr: 0.01, weightDecay: 0, momentum: 0.9 },
    schedule: { kind: 'cosine', warmupRatio: 0.05, warmupSteps: null, minLr: 0 },
    augment: 'flip',
  },
  'cifar-scratch': CIFAR_SCRATCH,
  // The shipped model's recipe, sized to one whole run: vit-mini for 50 epochs in one warmup + cosine
  // (resumed runs continue it, never restart it), light augmentation (pad-4 crop + flip), label
  // smoothing 0.1, and an average of the weights (EMA 0.999: about the last 3 epochs' worth).
  'cifar-default': { ...CIFAR_SCRATCH, recipe: 'cifar-default', epochs: 50, keep: 2, ema: 0.999 },
  // cifar-scratch with RandAugment and mixup, on the larger preset, for longer runs.
  'cifar-scratch-strong': {
    ...CIFAR_SCRATCH,
    recipe: 'cifar-scratch-strong',
    model: 'vit-tiny-patch4-32',
    epochs: 100,
    augment: 'randaugment',
    mixup: 0.8,
  },
});

export const RECIPE_NAMES: readonly string[] = Object.freeze(Object.keys(RECIPES));

function fail(source: string, field: string, expected: string, value: unknown): never {
  throw new Error(`${source}: ${field} must be ${expected}, got ${JSON.stringify(value)}`);
}

const int = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min;
const num = (v: unknown, min: number, max = Infinity, maxOpen = false): boolean =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && (maxOpen ? v < max : v <= max);

/** Check every field of a run configuration, naming the field and what was expected. */
export function validateTrainConfig(c: TrainConfig, source = 'train config'): TrainConfig {
  if (typeof c.model !== 'string' || c.model === '') fail(source, 'model', 'a preset name or a config file', c.model);
  if (c.pretrained !== null && typeof c.pretrained !== 'string') fail(source, 'pretrained', 'a checkpoint or null', c.pretrained);
  if (!int(c.imageSize, 1)) fail(source, 'imageSize', 'a positive integer', c.imageSize);
  if (!int(c.epochs, 1)) fail(source, 'epochs', 'a positive integer', c.epochs);
  if (!int(c.batchSize, 1)) fail(source, 'batchSize', 'a positive integer', c.batchSize);
  if (c.microBatchSize !== null && !int(c.microBatchSize, 1)) fail(source, 'microBatchSize', 'a positive integer or null', c.microBatchSize);
  const o = c.optimizer;
  if (!OPTIMIZER_KINDS.includes(o?.kind)) fail(source, 'optimizer.kind', `one of ${OPTIMIZER_KINDS.join(', ')}`, o?.kind);
  if (!num(o.lr, Number.MIN_VALUE)) fail(source, 'optimizer.lr', 'a positive number', o.lr);
  if (!num(o.weightDecay, 0)) fail(source, 'optimizer.weightDecay', 'a number ≥ 0', o.weightDecay);
  if (!num(o.beta1, 0, 1, true)) fail(source, 'optimizer.beta1', 'in [0, 1)', o.beta1);
  if (!num(o.beta2, 0, 1, true)) fail(source, 'optimizer.beta2', 'in [0, 1)', o.beta2);
  if (!num(o.eps, Number.MIN_VALUE)) fail(source, 'optimizer.eps', 'a positive number', o.eps);
  if (!num(o.momentum, 0, 1, true)) fail(source, 'optimizer.momentum', 'in [0, 1)', o.momentum);
  const s = c.schedule;
  if (!SCHEDULE_KINDS.includes(s?.kind)) fail(source, 'schedule.kind', `one of ${SCHEDULE_KINDS.join(', ')}`, s?.kind);
  if (!num(s.warmupRatio, 0, 1, true)) fail(source, 'schedule.warmupRatio', 'in [0, 1)', s.warmupRatio);
  if (s.warmupSteps !== null && !int(s.warmupSteps, 0)) fail(source, 'schedule.warmupSteps', 'an integer ≥ 0 or null', s.warmupSteps);
  if (!num(s.minLr, 0, o.lr)) fail(source, 'schedule.minLr', `in [0, lr=${o.lr}]`, s.minLr);
  if (!num(c.clipNorm, 0)) fail(source, 'clipNorm', 'a number ≥ 0 (0 = off)', c.clipNorm);
  if (!num(c.labelSmoothing, 0, 1, true)) fail(source, 'labelSmoothing', 'in [0, 1)', c.labelSmoothing);
  if (typeof c.augment !== 'string') fail(source, 'augment', 'an augmentation policy name', c.augment);
  // Configurations saved before `augmentAfter` existed use `augment` in every epoch.
  if (c.augmentAfter === undefined) c.augmentAfter = [];
  validateAugmentAfter(c.augmentAfter, source);
  if (!num(c.mixup, 0)) fail(source, 'mixup', 'a number ≥ 0', c.mixup);
  if (!num(c.cutmix, 0)) fail(source, 'cutmix', 'a number ≥ 0', c.cutmix);
  // Configurations saved before `mixupOffEpoch` existed mix every epoch.
  if (c.mixupOffEpoch === undefined) c.mixupOffEpoch = 0;
  if (!int(c.mixupOffEpoch, 0)) fail(source, 'mixupOffEpoch', 'an integer ≥ 0 (0 = mix every epoch)', c.mixupOffEpoch);
  // Configurations saved before `dropPath` existed have none.
  if (c.dropPath === undefined) c.dropPath = 0;
  if (!num(c.dropPath, 0, 1, true)) fail(source, 'dropPath', 'in [0, 1) (0 = no stochastic depth)', c.dropPath);
  if (!int(c.valPerClass, 0)) fail(source, 'valPerClass', 'an integer ≥ 0', c.valPerClass);
  // Rng seeds are 32-bit: a larger seed would silently alias a smaller one.
  if (!int(c.seed, 0) || c.seed > 0xffff_ffff) fail(source, 'seed', 'an integer from 0 to 4294967295', c.seed);
  if (c.maxSteps !== null && !int(c.maxSteps, 1)) fail(source, 'maxSteps', 'a positive integer or null', c.maxSteps);
  if (!int(c.saveEvery, 0)) fail(source, 'saveEvery', 'an integer ≥ 0', c.saveEvery);
  if (!int(c.keep, 0)) fail(source, 'keep', 'an integer ≥ 0', c.keep);
  if (!int(c.evalBatchSize, 1)) fail(source, 'evalBatchSize', 'a positive integer', c.evalBatchSize);
  // Configurations saved before `ema` existed have none: no average.
  if (c.ema === undefined) c.ema = 0;
  if (!num(c.ema, 0, 1, true)) fail(source, 'ema', 'in [0, 1) (0 = no average of the weights)', c.ema);
  return c;
}

function validateAugmentAfter(switches: unknown, source: string): void {
  if (!Array.isArray(switches)) fail(source, 'augmentAfter', 'a list of { afterEpoch, policy } (empty = no switch)', switches);
  let previous = 0;
  switches.forEach((s: Partial<AugmentSwitch> | null, i) => {
    const field = `augmentAfter[${i}]`;
    if (typeof s !== 'object' || s === null) fail(source, field, 'an object { afterEpoch, policy }', s);
    if (!int(s.afterEpoch, previous + 1)) {
      fail(source, `${field}.afterEpoch`, i === 0 ? 'an integer ≥ 1' : `an integer > ${previous} (the switch before it)`, s.afterEpoch);
    }
    if (typeof s.policy !== 'string' || s.policy === '') fail(source, `${field}.policy`, 'an augmentation policy name', s.policy);
    previous = s.afterEpoch as number;
  });
}

/**
 * The augmentation policy of the epoch with 0-based index `epochIndex`: `augment`, or the policy of
 * the last `augmentAfter` switch with `afterEpoch` ≤ `epochIndex`.
 */
export function augmentPolicyInEpoch(config: Pick<TrainConfig, 'augment' | 'augmentAfter'>, epochIndex: number): string {
  let policy = config.augment;
  for (const s of config.augmentAfter) if (s.afterEpoch <= epochIndex) policy = s.policy;
  return policy;
}

/**
 * Whether the epoch with 0-based index `epochIndex` mixes images (mixup or CutMix): the run has
 * mixing and the epoch comes before `mixupOffEpoch` (or that is 0).
 */
export function mixesInEpoch(config: Pick<TrainConfig, 'mixup' | 'cutmix' | 'mixupOffEpoch'>, epochIndex: number): boolean {
  const mixing = config.mixup > 0 || config.cutmix > 0;
  return mixing && (config.mixupOffEpoch === 0 || epochIndex < config.mixupOffEpoch);
}

/** A recipe with overrides applied (undefined values are ignored), validated. */
export function resolveTrainConfig(recipe: string, overrides: TrainConfigOverrides = {}): TrainConfig {
  const base = RECIPES[recipe];
  if (base === undefined) throw new Error(`recipe '${recipe}' does not exist; valid recipes are ${RECIPE_NAMES.join(', ')}`);
  const defined = <T extends object>(o: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  const { optimizer, schedule, ...rest } = overrides;
  const config: TrainConfig = {
    ...structuredClone(base),
    ...defined(rest),
    optimizer: { ...base.optimizer, ...defined(optimizer) },
    schedule: { ...base.schedule, ...defined(schedule) },
  };
  return validateTrainConfig(config, `recipe '${recipe}'`);
}
