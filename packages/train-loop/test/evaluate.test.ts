import { initBackend, tf } from '@vitlens/core';
import type { ImageDataset } from '@vitlens/cifar10-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { type EvaluationReport, type TrainableModel, MetricsAccumulator, accuracyHeading, evaluateModel, formatEvaluationReport, reportPath } from '../src/index';

// Eight images whose predictions are written out by hand, six classes (one with no images), so
// that top-1, top-5 (which can miss: six classes), the confusion matrix, per-class accuracy and
// the mean loss can be computed on paper.
const CLASSES = ['cat', 'dog', 'frog', 'horse', 'ship', 'truck'];
const P = [0.4, 0.25, 0.15, 0.1, 0.06, 0.04]; // the probabilities of each row, by rank
const IMAGES = [
  // label, classes from most to least probable       top-1  top-5  loss
  { label: 0, ranking: [0, 1, 2, 3, 4, 5] }, //         cat ✓    ✓    −ln .40
  { label: 0, ranking: [1, 2, 3, 4, 5, 0] }, //         dog ✗    ✗    −ln .04 (cat ranked last)
  { label: 1, ranking: [1, 0, 2, 3, 4, 5] }, //         dog ✓    ✓    −ln .40
  { label: 1, ranking: [2, 1, 0, 3, 4, 5] }, //        frog ✗    ✓    −ln .25
  { label: 2, ranking: [3, 4, 5, 0, 1, 2] }, //       horse ✗    ✗    −ln .04
  { label: 3, ranking: [3, 0, 1, 2, 4, 5] }, //       horse ✓    ✓    −ln .40
  { label: 5, ranking: [5, 0, 1, 2, 3, 4] }, //       truck ✓    ✓    −ln .40
  { label: 5, ranking: [0, 1, 2, 3, 5, 4] }, //         cat ✗    ✓    −ln .06 (truck 5th)
];
// By hand: top-1 4/8, top-5 6/8; loss (4·ln .4 + 2·ln .04 + ln .25 + ln .06) / −8 = 1.78783.
const CONFUSION = [
  // cat dog frog horse ship truck (predicted)
  [1, 1, 0, 0, 0, 0], // cat
  [0, 1, 1, 0, 0, 0], // dog
  [0, 0, 0, 1, 0, 0], // frog
  [0, 0, 0, 1, 0, 0], // horse
  [0, 0, 0, 0, 0, 0], // ship: no images
  [1, 0, 0, 0, 0, 1], // truck
];
const PER_CLASS = [
  { name: 'cat', correct: 1, total: 2, accuracy: 0.5 },
  { name: 'dog', correct: 1, total: 2, accuracy: 0.5 },
  { name: 'frog', correct: 0, total: 1, accuracy: 0 },
  { name: 'horse', correct: 1, total: 1, accuracy: 1 },
  { name: 'ship', correct: 0, total: 0, accuracy: null },
  { name: 'truck', correct: 1, total: 2, accuracy: 0.5 },
];
const MEAN_LOSS = -(4 * Math.log(0.4) + 2 * Math.log(0.04) + Math.log(0.25) + Math.log(0.06)) / 8;

/** Logits of image i: ln p by its ranking (softmax gives back exactly P). */
function logitsOf(i: number): number[] {
  const row = new Array<number>(CLASSES.length);
  IMAGES[i]!.ranking.forEach((cls, rank) => {
    row[cls] = Math.log(P[rank]!);
  });
  return row;
}

/** 2×2 images whose every pixel value is the image's index, so the fake model knows which it got. */
const dataset: ImageDataset = {
  images: Uint8Array.from({ length: IMAGES.length * 2 * 2 * 3 }, (_, j) => Math.floor(j / 12)),
  labels: Uint8Array.from(IMAGES.map((m) => m.label)),
  classNames: [...CLASSES],
  count: IMAGES.length,
  height: 2,
  width: 2,
  source: 'hand-made',
};

/** Answers each image with the logits written above: reads the image's index from its first pixel. */
const fakeModel: TrainableModel = {
  params: new Map(),
  decayParamNames: () => [],
  forward: (pixels) => {
    const table = tf.tensor2d(IMAGES.map((_, i) => logitsOf(i))); // [8, 6]
    const index = tf.cast(tf.reshape(tf.slice(pixels, [0, 0, 0, 0], [-1, 1, 1, 1]), [-1]), 'int32'); // [B]
    const logits = tf.gather(table, index) as tf.Tensor2D; // [B, 6]
    tf.dispose([table, index]);
    return { logits };
  },
};

function report(overrides: Partial<EvaluationReport> = {}): EvaluationReport {
  return {
    count: 8,
    accuracy: 0.5,
    top5: 0.75,
    meanLoss: MEAN_LOSS,
    perClass: PER_CLASS,
    confusion: CONFUSION,
    split: 'test',
    data: '../data/hand-made/test',
    checkpoint: 'models/fake',
    backend: 'cpu',
    createdAt: '2026-01-02T03:04:05.000Z',
    ...overrides,
  };
}

describe('evaluation metrics against hand-computed predictions', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('MetricsAccumulator gives the hand-computed confusion matrix, top-1, top-5, per-class accuracy and loss', () => {
    const acc = new MetricsAccumulator(CLASSES);
    // two batches of different sizes, top-5 lists (k = 5)
    for (const rows of [[0, 1, 2, 3, 4], [5, 6, 7]]) {
      acc.add(
        rows.map((i) => IMAGES[i]!.label),
        rows.flatMap((i) => IMAGES[i]!.ranking.slice(0, 5)),
        5,
        rows.map((i) => -Math.log(P[IMAGES[i]!.ranking.indexOf(IMAGES[i]!.label)]!)),
      );
    }
    const m = acc.result();
    expect(m.count).toBe(8);
    expect(m.accuracy).toBe(0.5);
    expect(m.top5).toBe(0.75);
    expect(m.confusion).toEqual(CONFUSION);
    expect(m.perClass).toEqual(PER_CLASS);
    expect(m.meanLoss).toBeCloseTo(1.78783, 5);
  });

  it('evaluateModel batches the images through the model and gives the same figures', async () => {
    const before = tf.memory().numTensors;
    const m = await evaluateModel(fakeModel, dataset, undefined, { batchSize: 3, preprocess: {} });
    expect(tf.memory().numTensors).toBe(before);
    expect(m).toMatchObject({ count: 8, accuracy: 0.5, top5: 0.75, confusion: CONFUSION, perClass: PER_CLASS });
    expect(m.meanLoss).toBeCloseTo(MEAN_LOSS, 5);
  });

  it('evaluateModel counts only the images at `indices`', async () => {
    // images 1, 4, 7: no top-1 hit; top-5 only for image 7
    const m = await evaluateModel(fakeModel, dataset, Int32Array.from([7, 1, 4]), { batchSize: 2, preprocess: {} });
    expect(m).toMatchObject({ count: 3, accuracy: 0, top5: 1 / 3 });
    expect(m.confusion).toEqual([
      [0, 1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 1, 0, 0],
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
      [1, 0, 0, 0, 0, 0],
    ]);
    expect(m.meanLoss).toBeCloseTo(-(2 * Math.log(0.04) + Math.log(0.06)) / 3, 5);
  });

  it('the text report of a test split starts "Test Set Accuracy", then the figures, the per-class table and the confusion matrix', () => {
    expect(formatEvaluationReport(report()).split('\n')).toEqual([
      'Test Set Accuracy: 50.00%',
      '',
      'Split:       test',
      'Images:      8',
      'Data:        ../data/hand-made/test',
      'Checkpoint:  models/fake',
      'Backend:     cpu',
      'Top-5:       75.00%',
      'Mean loss:   1.7878',
      'Date:        2026-01-02T03:04:05.000Z',
      '',
      'Per-class accuracy:',
      '  class  correct  total  accuracy',
      '  cat          1      2    50.00%',
      '  dog          1      2    50.00%',
      '  frog         0      1     0.00%',
      '  horse        1      1   100.00%',
      '  ship         0      0       n/a',
      '  truck        1      2    50.00%',
      '',
      'Confusion matrix (rows: true class, columns: predicted class):',
      '         cat  dog frog hors ship truc',
      '  cat      1    1    0    0    0    0',
      '  dog      0    1    1    0    0    0',
      '  frog     0    0    0    1    0    0',
      '  horse    0    0    0    1    0    0',
      '  ship     0    0    0    0    0    0',
      '  truck    1    0    0    0    0    1',
      '',
    ]);
  });

  it('a validation split held out of train is headed with that split, not "Test Set Accuracy"', () => {
    const heldOut = { from: 'train', perClass: 500, seed: 42 };
    expect(accuracyHeading({ split: "validation (held out of 'train': 500 per class, seed 42)", heldOut })).toBe(
      "Validation Accuracy (held out of 'train': 500 per class, seed 42)",
    );
    const text = formatEvaluationReport(report({ split: "validation (held out of 'train': 500 per class, seed 42)", heldOut }));
    expect(text.split('\n')[0]).toBe("Validation Accuracy (held out of 'train': 500 per class, seed 42): 50.00%");
    expect(accuracyHeading({ split: 'train' })).toBe("Accuracy on 'train'");
  });

  it('the images trained on (a split less its held-out part) are headed as training accuracy, with what was held out', () => {
    const trainedOn = { from: 'train', heldOutPerClass: 500, seed: 42 };
    const split = "trained (the images of 'train' not held out: 500 per class held out, seed 42)";
    expect(accuracyHeading({ split, trainedOn })).toBe("Training Accuracy (the images trained on: 'train' less 500 per class held out, seed 42)");
    const lines = formatEvaluationReport(report({ split, trainedOn, subset: { of: 45000 } })).split('\n');
    expect(lines[0]).toMatch(/^Training Accuracy \(the images trained on: 'train' less 500 per class held out, seed 42\) on \d+ of its 45000 images: 50\.00%$/);
    expect(lines).toContain(`Split:       ${split}`);
  });

  it('a report of part of a split says how many of its images, in the heading and the image count', () => {
    const heldOut = { from: 'train', perClass: 500, seed: 42 };
    const partial = report({ split: "validation (held out of 'train': 500 per class, seed 42)", heldOut, subset: { of: 5000 } });
    const lines = formatEvaluationReport(partial).split('\n');
    expect(lines[0]).toBe(`Validation Accuracy (held out of 'train': 500 per class, seed 42) on ${partial.count} of its 5000 images: 50.00%`);
    expect(lines).toContain(`Images:      ${partial.count} of 5000 (the first of each class in turn)`);
    expect(accuracyHeading({ split: 'test', subset: { of: 10000 }, count: 500 })).toBe('Test Set Accuracy on 500 of its 10000 images');
  });

  it('reportPath writes paths relative to the working directory', () => {
    expect(reportPath('/work/main/apps/cli/dist/models/default', '/work/main')).toBe('apps/cli/dist/models/default');
    expect(reportPath('/work/shared/data/cifar10-jpeg/train', '/work/main')).toBe('../shared/data/cifar10-jpeg/train');
    expect(reportPath('models/checkpoints/best', '/work/main')).toBe('models/checkpoints/best');
    expect(reportPath('/work/main', '/work/main')).toBe('.');
  });
});
