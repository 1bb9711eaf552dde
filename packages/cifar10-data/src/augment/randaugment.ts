import type { Rng } from '@vitlens/core';
import type { Augmentation } from '../types';
import { autocontrast, brightness, color, contrast, equalize, posterize, sharpness, solarize } from './color';
import { rotate, shearX, shearY, translate } from './geometry';

/** One RandAugment op: `level` is the magnitude in 0..10 (timm's scale). */
type Op = (img: Uint8Array, h: number, w: number, level: number, rng: Rng) => void;

const signed = (rng: Rng, v: number) => (rng.next() < 0.5 ? -v : v);

/**
 * The ops and their magnitude ranges, following timm's `rand_augment_ops` ("increasing" variants,
 * where a larger level always means a stronger change).
 */
export const RANDAUGMENT_OPS: Readonly<Record<string, Op>> = {
  identity: () => {},
  autoContrast: (img) => autocontrast(img),
  equalize: (img) => equalize(img),
  rotate: (img, h, w, level, rng) => rotate(img, h, w, signed(rng, (level / 10) * 30)),
  posterize: (img, _h, _w, level) => posterize(img, 8 - Math.round((level / 10) * 4)),
  solarize: (img, _h, _w, level) => solarize(img, 256 - Math.round((level / 10) * 256)),
  color: (img, _h, _w, level, rng) => color(img, 1 + signed(rng, (level / 10) * 0.9)),
  contrast: (img, _h, _w, level, rng) => contrast(img, 1 + signed(rng, (level / 10) * 0.9)),
  brightness: (img, _h, _w, level, rng) => brightness(img, 1 + signed(rng, (level / 10) * 0.9)),
  sharpness: (img, h, w, level, rng) => sharpness(img, h, w, 1 + signed(rng, (level / 10) * 0.9)),
  shearX: (img, h, w, level, rng) => shearX(img, h, w, signed(rng, (level / 10) * 0.3)),
  shearY: (img, h, w, level, rng) => shearY(img, h, w, signed(rng, (level / 10) * 0.3)),
  translateX: (img, h, w, level, rng) => translate(img, h, w, signed(rng, (level / 10) * 0.45 * w), 0),
  translateY: (img, h, w, level, rng) => translate(img, h, w, 0, signed(rng, (level / 10) * 0.45 * h)),
};

export interface RandAugmentOptions {
  /** Ops applied per image (default 2). */
  numOps?: number;
  /** Magnitude 0..10 (default 9, as timm's `rand-m9`). */
  magnitude?: number;
  /** Standard deviation of per-op magnitude noise (default 0 = fixed magnitude). */
  magnitudeStd?: number;
  /** Probability each chosen op is applied (default 0.5, as timm). */
  probability?: number;
  /** Restrict to these op names (default all of `RANDAUGMENT_OPS`). */
  ops?: readonly string[];
}

/** RandAugment (Cubuk et al. 2019): `numOps` ops drawn uniformly with replacement per image. */
export function randAugment(options: RandAugmentOptions = {}): Augmentation {
  const numOps = options.numOps ?? 2;
  const magnitude = options.magnitude ?? 9;
  const std = options.magnitudeStd ?? 0;
  const probability = options.probability ?? 0.5;
  const names = options.ops ?? Object.keys(RANDAUGMENT_OPS);
  for (const name of names) {
    if (!(name in RANDAUGMENT_OPS)) {
      throw new RangeError(`randAugment: unknown op "${name}"; valid ops: ${Object.keys(RANDAUGMENT_OPS).join(', ')}`);
    }
  }
  if (magnitude < 0 || magnitude > 10) throw new RangeError(`randAugment: magnitude must be in 0..10, got ${magnitude}`);
  const ops = names.map((n) => RANDAUGMENT_OPS[n]!);
  return (img, h, w, rng) => {
    for (let k = 0; k < numOps; k++) {
      const op = ops[rng.int(ops.length)]!;
      if (rng.next() >= probability) continue;
      const level = std > 0 ? Math.min(10, Math.max(0, rng.normal(magnitude, std))) : magnitude;
      op(img, h, w, level, rng);
    }
  };
}
