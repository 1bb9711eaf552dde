import type { Augmentation } from '../types';
import { compose, cutout, horizontalFlip, randomCrop } from './basic';
import { randAugment } from './randaugment';

const basic = () => compose(randomCrop({ padding: 4, mode: 'reflect' }), horizontalFlip());

const policies = new Map<string, Augmentation>([
  ['none', () => {}],
  ['flip', horizontalFlip()],
  ['basic', basic()],
  ['basic-zero', compose(randomCrop({ padding: 4, mode: 'zero' }), horizontalFlip())],
  ['cutout', compose(basic(), cutout())],
  ['randaugment', compose(basic(), randAugment({ numOps: 2, magnitude: 9 }))],
  // Half the magnitude (timm's scale): translate ≤ 22% of the side instead of 40%, rotate ≤ 15°
  // instead of 27°, colour ops ±45% instead of ±81%. About torchvision's RandAugment(2, 15).
  ['randaugment-m5', compose(basic(), randAugment({ numOps: 2, magnitude: 5 }))],
  ['randaugment-cutout', compose(basic(), randAugment({ numOps: 2, magnitude: 9 }), cutout())],
]);

/** Register (or replace) a named policy usable as `batchIterator({ augment: name })`. */
export function registerAugmentPolicy(name: string, augmentation: Augmentation): void {
  if (!name) throw new RangeError('registerAugmentPolicy: name must be a non-empty string');
  policies.set(name, augmentation);
}

/** The augmentation registered under `name`; throws listing the valid names. */
export function getAugmentPolicy(name: string): Augmentation {
  const policy = policies.get(name);
  if (!policy) throw new RangeError(`unknown augmentation policy "${name}"; valid policies: ${augmentPolicyNames().join(', ')}`);
  return policy;
}

export function augmentPolicyNames(): string[] {
  return [...policies.keys()];
}
