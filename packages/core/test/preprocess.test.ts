import { beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_MEAN, CIFAR10_STD, HF_VIT_MEAN, HF_VIT_STD, initBackend, pixelsToTensor, tf } from '../src/index';

describe('pixelsToTensor', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('keeps 0..255 values and the HWC layout with no options', () => {
    // One 1×2 image: pixel (0,0) = (0, 10, 20), pixel (0,1) = (100, 200, 255).
    const x = pixelsToTensor(new Uint8Array([0, 10, 20, 100, 200, 255]), [1, 1, 2, 3]);
    expect(x.shape).toEqual([1, 1, 2, 3]);
    expect(x.dtype).toBe('float32');
    expect(Array.from(x.dataSync())).toEqual([0, 10, 20, 100, 200, 255]);
    x.dispose();
  });

  it('rescales and normalises per channel: (v/255 - mean) / std', () => {
    const px = [0, 128, 255, 51, 102, 204];
    const x = pixelsToTensor(new Uint8Array(px), [1, 1, 2, 3], { rescaleFactor: 1 / 255, mean: CIFAR10_MEAN, std: CIFAR10_STD });
    const expected = px.map((v, i) => (v / 255 - CIFAR10_MEAN[i % 3]!) / CIFAR10_STD[i % 3]!);
    const got = Array.from(x.dataSync());
    for (const [i, g] of got.entries()) expect(g).toBeCloseTo(expected[i]!, 5);
    x.dispose();
    const hf = pixelsToTensor(new Uint8Array([0, 255, 51]), [1, 1, 1, 3], { rescaleFactor: 1 / 255, mean: HF_VIT_MEAN, std: HF_VIT_STD });
    for (const [i, g] of Array.from(hf.dataSync()).entries()) expect(g).toBeCloseTo([-1, 1, -0.6][i]!, 6);
    hf.dispose();
  });

  it('resizes bilinearly with half-pixel centres (2×2 → 4×4, by hand)', () => {
    // Channel 0 of a 2×2 image is [[0, 40], [80, 120]]; channels 1 and 2 are constant 7 and 0.
    const pixels = new Uint8Array([0, 7, 0, 40, 7, 0, 80, 7, 0, 120, 7, 0]);
    const x = pixelsToTensor(pixels, [1, 2, 2, 3], { resize: { height: 4, width: 4 } });
    expect(x.shape).toEqual([1, 4, 4, 3]);
    // Half-pixel centres: output i samples input (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25,
    // clamped to [0, 1]: weights 0, 0.25, 0.75, 1 along each axis.
    const w = [0, 0.25, 0.75, 1];
    const channel0 = Array.from(x.dataSync()).filter((_, i) => i % 3 === 0);
    const expected = w.flatMap((wy) => w.map((wx) => 80 * wy + 40 * wx));
    for (const [i, g] of channel0.entries()) expect(g).toBeCloseTo(expected[i]!, 4);
    expect(Array.from(x.dataSync()).filter((_, i) => i % 3 === 1).every((v) => Math.abs(v - 7) < 1e-5)).toBe(true);
    x.dispose();
  });

  it('downsizes 4×4 → 2×2 by averaging each 2×2 block at half-pixel centres', () => {
    const v = Array.from({ length: 16 }, (_, i) => i * 10); // row-major 4×4, one channel repeated
    const x = pixelsToTensor(new Uint8Array(v.flatMap((p) => [p, p, p])), [1, 4, 4, 3], { resize: { height: 2, width: 2 } });
    // Output (0,0) samples input (0.5, 0.5): mean of 0, 10, 40, 50 = 25.
    expect(Array.from(x.dataSync()).filter((_, i) => i % 3 === 0)).toEqual([25, 45, 105, 125]);
    x.dispose();
  });

  it('refuses pixels that do not fill the shape, or a channel count other than 3', () => {
    expect(() => pixelsToTensor(new Uint8Array(5), [1, 1, 2, 3])).toThrow(/5 bytes do not fill shape \[1, 1, 2, 3\] \(6 expected\)/);
    expect(() => pixelsToTensor(new Uint8Array(4), [1, 1, 1, 4])).toThrow(/expected 3 channels \(HWC RGB\), got shape \[1, 1, 1, 4\]/);
  });

  it('leaves only the returned tensor alive', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      pixelsToTensor(new Uint8Array(2 * 4 * 4 * 3), [2, 4, 4, 3], {
        resize: { height: 8, width: 8 },
        rescaleFactor: 1 / 255,
        mean: HF_VIT_MEAN,
        std: HF_VIT_STD,
      }).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
