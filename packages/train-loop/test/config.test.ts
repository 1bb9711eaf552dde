import { describe, expect, it } from 'vitest';
import { RECIPE_NAMES, type TrainConfig, resolveTrainConfig, validateTrainConfig } from '../src/index';

describe('resolveTrainConfig', () => {
  it('resolves every recipe to a valid configuration with no stochastic depth unless asked', () => {
    for (const name of RECIPE_NAMES) expect(resolveTrainConfig(name)).toMatchObject({ recipe: name, dropPath: 0 });
    expect(resolveTrainConfig('cifar-default', { dropPath: 0.1, mixup: 0.8, cutmix: 1 })).toMatchObject({ dropPath: 0.1, mixup: 0.8, cutmix: 1, epochs: 50 });
    expect(() => resolveTrainConfig('nope')).toThrow(/recipe 'nope' does not exist; valid recipes are seed-finetune, sgd-finetune, cifar-scratch/);
  });

  it('names the field and what was expected for a bad value', () => {
    expect(() => resolveTrainConfig('cifar-scratch', { dropPath: 1 })).toThrow("recipe 'cifar-scratch': dropPath must be in [0, 1) (0 = no stochastic depth), got 1");
    expect(() => resolveTrainConfig('cifar-scratch', { dropPath: -0.1 })).toThrow(/dropPath must be in \[0, 1\)/);
    expect(() => resolveTrainConfig('cifar-scratch', { mixup: -1 })).toThrow("recipe 'cifar-scratch': mixup must be a number ≥ 0, got -1");
    expect(() => resolveTrainConfig('cifar-scratch', { optimizer: { lr: 0 } })).toThrow(/optimizer.lr must be a positive number, got 0/);
  });

  it('reads a configuration saved before ema and dropPath existed as having neither', () => {
    const saved = { ...resolveTrainConfig('cifar-scratch') } as Partial<TrainConfig>;
    delete saved.ema;
    delete saved.dropPath;
    expect(validateTrainConfig(saved as TrainConfig, 'run/trainer_state.json')).toMatchObject({ ema: 0, dropPath: 0 });
  });
});
