import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stratifiedSplit } from '../src/index';
import { findSharedCifarJpeg, loadDataset } from '../src/node/index';

// The shared 50,000-image CIFAR-10 training set as JPEGs (../shared/data/cifar10-jpeg from the
// repo root, or $VITLENS_CIFAR10_JPEG). Missing data fails under CI=true and skips locally.
const root = findSharedCifarJpeg(path.dirname(new URL(import.meta.url).pathname));
const present = root !== null && fs.existsSync(path.join(root, 'train'));
const inCi = process.env.CI === 'true';
if (!present && !inCi) {
  console.warn(`realData.test.ts skipped: no ../shared/data/cifar10-jpeg/train (set VITLENS_CIFAR10_JPEG to its root); CI=true makes this a failure`);
}

describe.skipIf(!present && !inCi)('the shared CIFAR-10 JPEG training set', () => {
  it('loads 50,000 32×32 images, 5,000 per class, with CIFAR-10 pixel statistics, and splits deterministically', async () => {
    if (!present) throw new Error(`CI=true but the shared data is missing: expected ${root ?? '../shared/data/cifar10-jpeg'}/train/<class>/*.jpg`);
    const started = performance.now();
    const ds = await loadDataset(root, { split: 'train', progress: false, log: (m) => console.log(m) });
    console.log(`loaded ${ds.count} images in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    expect(ds.count).toBe(50_000);
    expect([ds.height, ds.width]).toEqual([32, 32]);
    expect(ds.classNames).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    expect(ds.skipped).toBeUndefined();
    expect(ds.resized).toBeUndefined();
    const perClass = new Array(10).fill(0);
    for (const label of ds.labels) perClass[label]++;
    expect(perClass).toEqual(new Array(10).fill(5000));

    // Per-channel mean and std on 0..1 pixels; CIFAR-10 train is about 0.491/0.482/0.447 and 0.247/0.243/0.262.
    const sum = [0, 0, 0];
    const sq = [0, 0, 0];
    const px = ds.images;
    for (let i = 0; i < px.length; i += 3) {
      for (let c = 0; c < 3; c++) {
        const v = px[i + c]!;
        sum[c]! += v;
        sq[c]! += v * v;
      }
    }
    const n = px.length / 3;
    const mean = sum.map((s) => s / n / 255);
    const std = sq.map((s, c) => Math.sqrt(s / n / 65025 - mean[c]! ** 2));
    console.log(`channel mean ${mean.map((m) => m.toFixed(4)).join('/')} std ${std.map((s) => s.toFixed(4)).join('/')}`);
    const expectedMean = [0.4914, 0.4822, 0.4465];
    const expectedStd = [0.247, 0.2435, 0.2616];
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(mean[c]! - expectedMean[c]!)).toBeLessThan(0.02);
      expect(Math.abs(std[c]! - expectedStd[c]!)).toBeLessThan(0.02);
    }
    // Blue is the darkest channel on average, as in CIFAR-10.
    expect(mean[2]!).toBeLessThan(mean[0]!);

    const a = stratifiedSplit(ds.labels, 10, { valPerClass: 500, seed: 'cifar10-val' });
    const b = stratifiedSplit(ds.labels, 10, { valPerClass: 500, seed: 'cifar10-val' });
    expect(a.val.length).toBe(5000);
    expect(a.train.length).toBe(45_000);
    expect(b.val).toEqual(a.val);
    const valPerClass = new Array(10).fill(0);
    for (const i of a.val) valPerClass[ds.labels[i]!]++;
    expect(valPerClass).toEqual(new Array(10).fill(500));
  });
});
