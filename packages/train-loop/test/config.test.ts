import { describe, expect, it } from 'vitest';
import { RECIPE_NAMES, type TrainConfig, augmentPolicyInEpoch, mixesInEpoch, resolveTrainConfig, validateTrainConfig } from '../src/index';

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
    delete saved.mixupOffEpoch;
    delete saved.augmentAfter;
    expect(validateTrainConfig(saved as TrainConfig, 'run/trainer_state.json')).toMatchObject({ ema: 0, dropPath: 0, mixupOffEpoch: 0, augmentAfter: [] });
  });

  it('augmentAfter: switches in increasing epoch order; each epoch uses the last switch passed', () => {
    const switched = resolveTrainConfig('cifar-default', {
      augment: 'randaugment',
      augmentAfter: [
        { afterEpoch: 2, policy: 'randaugment-m5' },
        { afterEpoch: 4, policy: 'basic' },
      ],
    });
    expect([0, 1, 2, 3, 4, 99].map((e) => augmentPolicyInEpoch(switched, e))).toEqual(['randaugment', 'randaugment', 'randaugment-m5', 'randaugment-m5', 'basic', 'basic']);
    expect([0, 50].map((e) => augmentPolicyInEpoch(resolveTrainConfig('cifar-default'), e))).toEqual(['basic', 'basic']);
    expect(() => resolveTrainConfig('cifar-scratch', { augmentAfter: [{ afterEpoch: 0, policy: 'basic' }] })).toThrow(
      "recipe 'cifar-scratch': augmentAfter[0].afterEpoch must be an integer ≥ 1, got 0",
    );
    expect(() =>
      resolveTrainConfig('cifar-scratch', {
        augmentAfter: [
          { afterEpoch: 5, policy: 'basic' },
          { afterEpoch: 5, policy: 'flip' },
        ],
      }),
    ).toThrow("recipe 'cifar-scratch': augmentAfter[1].afterEpoch must be an integer > 5 (the switch before it), got 5");
    expect(() => resolveTrainConfig('cifar-scratch', { augmentAfter: [{ afterEpoch: 3, policy: '' }] })).toThrow(/augmentAfter\[0\]\.policy must be an augmentation policy name, got ""/);
    const saved = { ...resolveTrainConfig('cifar-scratch'), augmentAfter: 'basic' } as unknown as TrainConfig;
    expect(() => validateTrainConfig(saved, 'run/trainer_state.json')).toThrow(
      'run/trainer_state.json: augmentAfter must be a list of { afterEpoch, policy } (empty = no switch), got "basic"',
    );
  });

  it('mixupOffEpoch: an integer ≥ 0; epochs from that index on mix nothing, 0 mixes every epoch', () => {
    expect(() => resolveTrainConfig('cifar-scratch', { mixupOffEpoch: 2.5 })).toThrow("recipe 'cifar-scratch': mixupOffEpoch must be an integer ≥ 0 (0 = mix every epoch), got 2.5");
    expect(() => resolveTrainConfig('cifar-scratch', { mixupOffEpoch: -1 })).toThrow(/mixupOffEpoch must be an integer ≥ 0/);
    const mixed = resolveTrainConfig('cifar-default', { mixup: 0.8, cutmix: 1, mixupOffEpoch: 3 });
    expect([0, 1, 2, 3, 4].map((e) => mixesInEpoch(mixed, e))).toEqual([true, true, true, false, false]);
    expect([0, 9, 99].map((e) => mixesInEpoch({ ...mixed, mixupOffEpoch: 0 }, e))).toEqual([true, true, true]);
    expect(mixesInEpoch({ ...mixed, mixup: 0 }, 0)).toBe(true); // CutMix alone still mixes
    expect(mixesInEpoch({ ...mixed, mixup: 0, cutmix: 0 }, 0)).toBe(false);
  });
});
