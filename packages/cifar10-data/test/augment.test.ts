import { Rng } from '@vitlens/core';
import { describe, expect, it } from 'vitest';
import {
  RANDAUGMENT_OPS,
  augmentPolicyNames,
  brightness,
  cutout,
  equalize,
  getAugmentPolicy,
  horizontalFlip,
  mixBatch,
  posterize,
  randAugment,
  randomCrop,
  registerAugmentPolicy,
  rotate,
  sampleBeta,
  solarize,
  translate,
} from '../src/index';
import { gradientImage } from './helpers';

const H = 8;
const W = 8;
const px = (img: Uint8Array, y: number, x: number) => Array.from(img.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));

/** An image whose pixel (y, x) is [y, x, 7]. */
function coordImage(): Uint8Array {
  const img = new Uint8Array(H * W * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img.set([y, x, 7], (y * W + x) * 3);
  return img;
}

/** An Rng whose draws are scripted (uniforms in [0,1)), for exact geometric checks. */
function scripted(values: number[]): Rng {
  const rng = new Rng(0);
  let i = 0;
  rng.nextUint32 = () => Math.floor(values[i++ % values.length]! * 4294967296);
  return rng;
}

describe('augmentations', () => {
  it('horizontal flip mirrors columns, and twice is the identity', () => {
    const img = coordImage();
    const flip = horizontalFlip(1);
    flip(img, H, W, new Rng(1));
    expect(px(img, 2, 0)).toEqual([2, W - 1, 7]);
    flip(img, H, W, new Rng(1));
    expect(img).toEqual(coordImage());
  });

  it('random crop with reflect padding mirrors without repeating the edge; zero padding is black', () => {
    // int(9) draws: 0 → dy = -4, 0 → dx = -4: output (0,0) reads source (-4,-4) → reflected (4,4)
    const img = coordImage();
    randomCrop({ padding: 4, mode: 'reflect' })(img, H, W, scripted([0, 0]));
    expect(px(img, 0, 0)).toEqual([4, 4, 7]);
    expect(px(img, 4, 4)).toEqual([0, 0, 7]);
    const zero = coordImage();
    randomCrop({ padding: 4, mode: 'zero' })(zero, H, W, scripted([0, 0]));
    expect(px(zero, 3, 3)).toEqual([0, 0, 0]);
    expect(px(zero, 4, 4)).toEqual([0, 0, 7]);
    expect(px(zero, 7, 7)).toEqual([3, 3, 7]);
  });

  it('cutout fills a clipped square with the fill value and leaves the rest', () => {
    const img = coordImage();
    // centre (0, 0), size 4 → rows/cols 0..1 after clipping at the border
    cutout({ size: 4, fill: 200 })(img, H, W, scripted([0, 0, 0]));
    expect(px(img, 1, 1)).toEqual([200, 200, 200]);
    expect(px(img, 2, 2)).toEqual([2, 2, 7]);
    let filled = 0;
    for (let i = 0; i < img.length; i += 3) if (img[i] === 200) filled++;
    expect(filled).toBe(4);
  });

  it('pixel ops follow PIL: brightness scales, posterize masks bits, solarize inverts above the threshold, equalize spreads values', () => {
    const a = Uint8Array.from([100, 200, 50]);
    brightness(a, 1.5);
    expect(Array.from(a)).toEqual([150, 255, 75]);
    const b = Uint8Array.from([0b10110111, 255, 3]);
    posterize(b, 2);
    expect(Array.from(b)).toEqual([0b10000000, 0b11000000, 0]);
    const c = Uint8Array.from([10, 128, 200]);
    solarize(c, 128);
    expect(Array.from(c)).toEqual([10, 127, 55]);
    // 512 pixels, half at 10 and half at 20: equalisation pushes them to the ends of the range
    const d = new Uint8Array(512 * 3);
    d.fill(10, 0, 256 * 3);
    d.fill(20, 256 * 3);
    equalize(d);
    expect(d[0]).toBe(0);
    expect(d[511 * 3]).toBe(255);
  });

  it('geometric ops sample bilinearly: an integer translation moves pixels, a 360° rotation is the identity', () => {
    const img = coordImage();
    translate(img, H, W, 2, 1, 99);
    expect(px(img, 3, 4)).toEqual([2, 2, 7]);
    expect(px(img, 0, 0)).toEqual([99, 99, 99]);
    const r = gradientImage(H, W);
    const copy = r.slice();
    rotate(r, H, W, 360);
    expect(r).toEqual(copy);
  });

  it('every RandAugment op keeps the image shape, and at magnitude 9 most ops change a textured image', () => {
    let changed = 0;
    for (const [name, op] of Object.entries(RANDAUGMENT_OPS)) {
      const img = gradientImage(32, 32, 5);
      for (let i = 0; i < img.length; i += 7) img[i] = (img[i]! * 13) % 256;
      const before = img.slice();
      op(img, 32, 32, 9, new Rng(name));
      expect(img.length).toBe(before.length);
      if (img.some((v, i) => v !== before[i])) changed++;
    }
    expect(changed).toBeGreaterThanOrEqual(Object.keys(RANDAUGMENT_OPS).length - 1); // all but identity
  });

  it('augmentation is a function of the rng state only', () => {
    for (const policy of ['basic', 'randaugment-cutout']) {
      const aug = getAugmentPolicy(policy);
      const a = gradientImage(32, 32, 1);
      const b = gradientImage(32, 32, 1);
      const rng = new Rng('aug');
      const state = rng.getState();
      aug(a, 32, 32, rng);
      aug(b, 32, 32, Rng.fromState(state));
      expect(a).toEqual(b);
    }
    expect(() => randAugment({ ops: ['zoom'] })).toThrowError(/unknown op "zoom"; valid ops: identity/);
  });

  it('randaugment-m5 draws the same ops as randaugment and changes the images less', () => {
    // Same rng stream: the same crops, flips and ops, at magnitude 5 instead of 9.
    let changeM9 = 0;
    let changeM5 = 0;
    for (let k = 0; k < 64; k++) {
      const original = gradientImage(32, 32, k + 1);
      const m9 = original.slice();
      const m5 = original.slice();
      getAugmentPolicy('randaugment')(m9, 32, 32, new Rng(`image ${k}`));
      getAugmentPolicy('randaugment-m5')(m5, 32, 32, new Rng(`image ${k}`));
      for (let i = 0; i < original.length; i++) {
        changeM9 += Math.abs(m9[i]! - original[i]!);
        changeM5 += Math.abs(m5[i]! - original[i]!);
      }
    }
    expect(changeM5).toBeGreaterThan(0);
    expect(changeM5).toBeLessThan(0.9 * changeM9);
  });

  it('the registry lists built-in policies, accepts new ones, and names valid ones on a typo', () => {
    expect(augmentPolicyNames()).toEqual(expect.arrayContaining(['none', 'basic', 'randaugment', 'randaugment-m5', 'cutout']));
    registerAugmentPolicy('invert', (img) => {
      for (let i = 0; i < img.length; i++) img[i] = 255 - img[i]!;
    });
    const img = Uint8Array.from([0, 255, 10]);
    getAugmentPolicy('invert')(img, 1, 1, new Rng(0));
    expect(Array.from(img)).toEqual([255, 0, 245]);
    expect(() => getAugmentPolicy('basik')).toThrowError(/unknown augmentation policy "basik"; valid policies: none, flip, basic/);
  });
});

describe('mixup and cutmix', () => {
  it('Beta(α, α) samples have mean 1/2 and the right variance', () => {
    const rng = new Rng('beta');
    const alpha = 0.4;
    const n = 4000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = sampleBeta(rng, alpha);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    const variance = sq / n - mean * mean;
    expect(mean).toBeCloseTo(0.5, 1);
    expect(variance).toBeCloseTo(1 / (4 * (2 * alpha + 1)), 1); // 0.139
  });

  it('targets are probability rows matching the pixel shares of each source', () => {
    const batch = 4;
    const size = 8 * 8 * 3;
    const labels = Int32Array.from([0, 1, 2, 3]);
    for (const opts of [{ mixup: 1 }, { cutmix: 1 }]) {
      // image i is constant 50·i, so each pixel reveals which image it came from
      const pixels = new Uint8Array(batch * size);
      for (let i = 0; i < batch; i++) pixels.fill(50 * i, i * size, (i + 1) * size);
      const targets = mixBatch(pixels, labels, { batch, height: 8, width: 8 }, 5, opts, new Rng(JSON.stringify(opts)));
      for (let i = 0; i < batch; i++) {
        const row = targets.subarray(i * 5, i * 5 + 5);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(row[4]).toBe(0);
        // mean pixel = Σ_c target_c · 50·c (exact for cutmix, within rounding for mixup)
        let mean = 0;
        for (let k = 0; k < size; k++) mean += pixels[i * size + k]!;
        mean /= size;
        let expected = 0;
        for (let c = 0; c < 4; c++) expected += row[c]! * 50 * c;
        expect(Math.abs(mean - expected)).toBeLessThanOrEqual(0.5);
      }
    }
  });
});
