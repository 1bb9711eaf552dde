import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initBackend, tf } from '@vitlens/core';
import { registerAugmentPolicy, stratifiedSplit } from '@vitlens/cifar10-data';
import { ViTForImageClassification, processorToPreprocessOptions } from '@vitlens/vit-model';
import { loadCheckpoint } from '@vitlens/vit-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LocalGradientEngine,
  type TrainConfig,
  type TrainOptions,
  evaluateModel,
  findResumeCheckpoint,
  listCheckpoints,
  readTrainerState,
  resolveTrainConfig,
  train,
} from '../src/index';
import { syntheticDataset, testBackend, tinyConfig } from './helpers';

const dataset = syntheticDataset(12, 2); // 36 images, 3 classes
const split = stratifiedSplit(dataset.labels, 3, { valPerClass: 2, seed: 1 }); // 30 train, 6 val
let root: string;

function runConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return resolveTrainConfig('cifar-scratch', {
    model: 'tiny',
    imageSize: 8,
    epochs: 2,
    batchSize: 8, // 4 steps per epoch, the last one short
    microBatchSize: 3,
    valPerClass: 2,
    evalBatchSize: 16,
    keep: 0,
    seed: 11,
    augment: 'basic',
    dropPath: 0.3,
    ...overrides,
  });
}

function newModel(): ViTForImageClassification {
  // Dropout and stochastic depth on (two layers: the first never skips), so the tests also cover
  // the per-step mask seeds.
  return ViTForImageClassification.create(tinyConfig({ num_hidden_layers: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }), { seed: 4 });
}

function options(model: ViTForImageClassification, outDir: string, config: TrainConfig): TrainOptions {
  return {
    model,
    dataset,
    trainIndices: split.train,
    valIndices: split.val,
    config,
    outDir,
    preprocess: processorToPreprocessOptions(model.processor),
  };
}

function weights(model: ViTForImageClassification): Map<string, Float32Array> {
  return new Map([...model.params].map(([k, v]) => [k, v.dataSync() as Float32Array]));
}

describe('train', () => {
  beforeAll(async () => {
    await initBackend({ prefer: testBackend('cpu') });
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-trainer-'));
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('a run interrupted after epoch 1 and resumed ends with bit-identical weights to an uninterrupted run', async () => {
    const config = runConfig();
    const straight = newModel();
    const full = await train(options(straight, path.join(root, 'straight'), config));
    expect(full).toMatchObject({ status: 'done', step: 8, epoch: 2 });

    const outDir = path.join(root, 'resumed');
    const first = newModel();
    const controller = new AbortController();
    const part = await train({ ...options(first, outDir, config), signal: controller.signal, onEpoch: () => controller.abort() });
    expect(part).toMatchObject({ status: 'interrupted', step: 4, epoch: 1 });
    first.dispose();

    const resumeAt = await findResumeCheckpoint(outDir);
    expect(resumeAt?.state).toMatchObject({ epoch: 1, step: 4, stepInEpoch: 0, reason: 'epoch' });
    const second = await loadCheckpoint(resumeAt!.dir);
    const rest = await train({ ...options(second, outDir, config), resumeFrom: resumeAt!.dir });
    expect(rest).toMatchObject({ status: 'done', step: 8, epoch: 2 });

    const a = weights(straight);
    const b = weights(second);
    for (const [name, values] of a) expect(Buffer.from(b.get(name)!.buffer).equals(Buffer.from(values.buffer)), name).toBe(true);
    // And training changed the weights at all.
    const init = weights(newModel());
    expect([...a].some(([name, v]) => v.some((x, i) => x !== init.get(name)![i]))).toBe(true);
    straight.dispose();
    second.dispose();
  });

  it('stopAfterEpoch pauses at that epoch without changing the plan: the resumed run matches the uninterrupted one', async () => {
    const config = runConfig();
    const straight = newModel();
    await train(options(straight, path.join(root, 'straight-pause'), config));

    const outDir = path.join(root, 'paused');
    const first = newModel();
    const part = await train({ ...options(first, outDir, config), stopAfterEpoch: 1 });
    expect(part).toMatchObject({ status: 'paused', step: 4, epoch: 1 });
    expect(path.basename(part.lastCheckpoint!)).toBe('epoch-001');
    first.dispose();

    // Asking again for a run already there returns at once, training nothing.
    const again = await loadCheckpoint(path.join(outDir, 'epoch-001'));
    const idle = await train({ ...options(again, outDir, config), resumeFrom: path.join(outDir, 'epoch-001'), stopAfterEpoch: 1 });
    expect(idle).toMatchObject({ status: 'paused', step: 4, epoch: 1 });
    again.dispose();

    const second = await loadCheckpoint(path.join(outDir, 'last'));
    const rest = await train({ ...options(second, outDir, config), resumeFrom: path.join(outDir, 'last') });
    expect(rest).toMatchObject({ status: 'done', step: 8, epoch: 2 });
    const a = weights(straight);
    for (const [name, v] of weights(second)) expect(Buffer.from(v.buffer).equals(Buffer.from(a.get(name)!.buffer)), name).toBe(true);
    straight.dispose();
    second.dispose();

    const model = newModel();
    await expect(train({ ...options(model, path.join(root, 'pause-bad'), config), stopAfterEpoch: 0 })).rejects.toThrow(
      'train: stopAfterEpoch must be an integer ≥ 1, got 0',
    );
    await expect(fs.stat(path.join(root, 'pause-bad'))).rejects.toThrow();
    model.dispose();
  });

  it('a run stopped mid-epoch (Ctrl-C) resumes from that step and still matches the uninterrupted run', async () => {
    const config = runConfig({ epochs: 1 });
    const straight = newModel();
    await train(options(straight, path.join(root, 'straight-1'), config));
    const outDir = path.join(root, 'sigint');
    const controller = new AbortController();
    const first = newModel();
    const part = await train({
      ...options(first, outDir, config),
      signal: controller.signal,
      onStep: (p) => {
        if (p.step === 2) controller.abort();
      },
    });
    expect(part).toMatchObject({ status: 'interrupted', step: 2, epoch: 0 });
    expect(path.basename(part.lastCheckpoint!)).toBe('step-0000002');
    const state = await readTrainerState(path.join(outDir, 'last', 'trainer_state.json'));
    expect(state).toMatchObject({ step: 2, stepInEpoch: 2, reason: 'interrupt' });
    first.dispose();
    const second = await loadCheckpoint(path.join(outDir, 'last'));
    await train({ ...options(second, outDir, config), resumeFrom: path.join(outDir, 'last') });
    const a = weights(straight);
    for (const [name, v] of weights(second)) expect(Buffer.from(v.buffer).equals(Buffer.from(a.get(name)!.buffer)), name).toBe(true);
    straight.dispose();
    second.dispose();
  });

  it('writes epoch checkpoints in HF layout with optimizer and trainer state, last/best, metrics.jsonl, and prunes with keep', async () => {
    const outDir = path.join(root, 'layout');
    const model = newModel();
    const config = runConfig({ epochs: 3, keep: 2, saveEvery: 3 });
    await train(options(model, outDir, config));
    const names = (await fs.readdir(outDir)).sort();
    // Checkpoints at steps 3, 4 (epoch 1), 6, 8, 9, 12: keep 2 leaves the two newest, and the one
    // `best` links to (last and best are links to numbered folders, never pruned).
    const bestDir = await fs.readlink(path.join(outDir, 'best'));
    expect(await fs.readlink(path.join(outDir, 'last'))).toBe('epoch-003');
    expect(names).toEqual([...new Set(['best', 'epoch-003', 'last', 'metrics.jsonl', 'step-0000009', bestDir])].sort());
    for (const dir of ['epoch-003', 'last', 'best']) {
      expect((await fs.readdir(path.join(outDir, dir))).sort()).toEqual([
        'config.json',
        'model.safetensors',
        'optimizer.safetensors',
        'preprocessor_config.json',
        'trainer_state.json',
      ]);
    }
    const last = await readTrainerState(path.join(outDir, 'last', 'trainer_state.json'));
    expect(last).toMatchObject({ epoch: 3, step: 12, stepInEpoch: 0, config });
    const best = await readTrainerState(path.join(outDir, 'best', 'trainer_state.json'));
    expect(best.best.value).toBe(Math.max(...(await epochAccuracies(outDir))));
    const lines = (await fs.readFile(path.join(outDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const steps = lines.filter((l) => l.type === 'step');
    expect(steps.map((l) => l.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const s of steps) {
      expect(Number.isFinite(s.loss) && s.lr > 0 && s.images_per_s > 0).toBe(true);
      expect(s.epoch).toBe(Math.ceil(s.step / 4));
    }
    const epochs = lines.filter((l) => l.type === 'epoch');
    expect(epochs.map((l) => l.epoch)).toEqual([1, 2, 3]);
    // Each is a count of the 6 validation images, and epoch 3's is what evaluating the saved
    // epoch-3 checkpoint on those images gives, independently of the trainer.
    for (const e of epochs) expect(e.val_accuracy * split.val.length).toBeCloseTo(Math.round(e.val_accuracy * split.val.length), 9);
    const saved = await loadCheckpoint(path.join(outDir, 'epoch-003'));
    const recomputed = await evaluateModel(saved, dataset, split.val, { preprocess: processorToPreprocessOptions(saved.processor) });
    saved.dispose();
    expect(recomputed.count).toBe(6);
    expect(epochs[2].val_accuracy).toBe(recomputed.accuracy);
    expect(last.lastEval).toMatchObject({ accuracy: recomputed.accuracy, epoch: 3 });
    model.dispose();
  });

  it('a crash in the middle of a save leaves the previous checkpoint intact and resumable', async () => {
    const outDir = path.join(root, 'crash');
    const model = newModel();
    await train(options(model, outDir, runConfig({ epochs: 1 })));
    const before = await fs.readFile(path.join(outDir, 'last', 'model.safetensors'));
    for (const stage of ['model', 'optimizer', 'state', 'commit'] as const) {
      const failing = runConfig({ epochs: 2 });
      const resumeAt = await findResumeCheckpoint(outDir);
      expect(resumeAt?.state.epoch).toBe(1);
      const m = await loadCheckpoint(resumeAt!.dir);
      await expect(
        train({
          ...options(m, outDir, failing),
          resumeFrom: resumeAt!.dir,
          saveFault: (s) => {
            if (s === stage) throw new Error(`injected crash at ${s}`);
          },
        }),
      ).rejects.toThrow(`injected crash at ${stage}`);
      m.dispose();
      expect((await fs.readdir(outDir)).filter((n) => !n.startsWith('.')).sort()).toEqual(['best', 'epoch-001', 'last', 'metrics.jsonl']);
      expect((await fs.readFile(path.join(outDir, 'last', 'model.safetensors'))).equals(before)).toBe(true);
      expect((await readTrainerState(path.join(outDir, 'last', 'trainer_state.json'))).epoch).toBe(1);
    }
    // A crash after the new folder is in place but before `last` moved: resume still finds the newest.
    const m = await loadCheckpoint(path.join(outDir, 'last'));
    await expect(
      train({
        ...options(m, outDir, runConfig({ epochs: 2 })),
        resumeFrom: path.join(outDir, 'last'),
        saveFault: (s) => {
          if (s === 'pointers') throw new Error('injected crash at pointers');
        },
      }),
    ).rejects.toThrow('injected crash at pointers');
    m.dispose();
    expect((await findResumeCheckpoint(outDir))?.state.epoch).toBe(2);
    expect((await listCheckpoints(outDir)).map((c) => path.basename(c.dir))).toEqual(['epoch-001', 'epoch-002']);
    model.dispose();
  });

  it('a resume from an unreadable checkpoint fails naming the file and leaves no tensors behind', async () => {
    const outDir = path.join(root, 'bad-resume');
    const model = newModel();
    await train(options(model, outDir, runConfig({ epochs: 1, ema: 0.9 })));
    // The average is read last, after the optimizer state is already in memory.
    const averageFile = path.join(outDir, 'last', 'ema', 'model.safetensors');
    const bytes = await fs.readFile(averageFile);
    await fs.writeFile(averageFile, bytes.subarray(0, bytes.length >> 1));
    const resumed = await loadCheckpoint(path.join(outDir, 'last'));
    const before = tf.memory().numTensors;
    await expect(
      train({ ...options(resumed, outDir, runConfig({ epochs: 2, ema: 0.9 })), resumeFrom: path.join(outDir, 'last') }),
    ).rejects.toThrow(/model\.safetensors/);
    expect(tf.memory().numTensors).toBe(before);
    resumed.dispose();
    model.dispose();
  });

  it('refuses a model whose classifier does not have one label per class of the dataset, before writing anything', async () => {
    const outDir = path.join(root, 'wrong-labels');
    const model = ViTForImageClassification.create(tinyConfig({ id2label: { 0: 'a', 1: 'b' } }), { seed: 4 });
    const before = tf.memory().numTensors;
    await expect(train(options(model, outDir, runConfig()))).rejects.toThrow(
      /the model's classifier has 2 labels \(config\.id2label: a, b\) but the dataset .* has 3 classes/,
    );
    expect(tf.memory().numTensors).toBe(before);
    await expect(fs.access(outDir)).rejects.toThrow();
    model.dispose();
  });

  it('mixupOffEpoch: epochs up to it train on mixed soft targets, later ones on hard labels', async () => {
    const model = newModel();
    const local = new LocalGradientEngine(model, { microBatchSize: 3 });
    const mixedPerEpoch: boolean[][] = [[], [], []];
    let epochOfStep = 0;
    await train({
      ...options(model, path.join(root, 'mixup-off'), runConfig({ epochs: 3, mixup: 0.8, cutmix: 1, mixupOffEpoch: 2 })),
      engine: {
        computeGradients: (batch, opts) => {
          mixedPerEpoch[epochOfStep]?.push(batch.targets !== undefined);
          return local.computeGradients(batch, opts);
        },
        dispose: () => {},
      },
      onEpoch: (m) => {
        epochOfStep = m.epoch;
      },
    });
    local.dispose();
    // 30 training images in batches of 8: 4 steps per epoch.
    expect(mixedPerEpoch).toEqual([
      [true, true, true, true],
      [true, true, true, true],
      [false, false, false, false],
    ]);
    expect((await readTrainerState(path.join(root, 'mixup-off', 'last', 'trainer_state.json'))).config.mixupOffEpoch).toBe(2);
    model.dispose();
  }, 120_000);

  it('augmentAfter: epochs after a switch augment with its policy, earlier ones with augment', async () => {
    // Two policies that only count the images they see, per epoch.
    const seen: Record<'strong' | 'light', number>[] = [];
    let epochIndex = 0;
    const count = (name: 'strong' | 'light') => () => {
      seen[epochIndex] ??= { strong: 0, light: 0 };
      seen[epochIndex]![name]++;
    };
    registerAugmentPolicy('test-count-strong', count('strong'));
    registerAugmentPolicy('test-count-light', count('light'));
    const model = newModel();
    await train({
      ...options(model, path.join(root, 'augment-after'), runConfig({ epochs: 3, augment: 'test-count-strong', augmentAfter: [{ afterEpoch: 1, policy: 'test-count-light' }] })),
      onEpoch: (m) => {
        epochIndex = m.epoch;
      },
    });
    // 30 training images per epoch; the batches of an epoch are prepared within it.
    expect(seen).toEqual([
      { strong: 30, light: 0 },
      { strong: 0, light: 30 },
      { strong: 0, light: 30 },
    ]);
    const { config } = await readTrainerState(path.join(root, 'augment-after', 'last', 'trainer_state.json'));
    expect(config.augmentAfter).toEqual([{ afterEpoch: 1, policy: 'test-count-light' }]);
    model.dispose();
  }, 120_000);

  it('keeps tf.memory().numTensors flat across 50 training steps', async () => {
    const model = newModel();
    const config = runConfig({ epochs: 50, batchSize: 30, microBatchSize: 7, saveEvery: 0, valPerClass: 2 });
    const counts: number[] = [];
    await train({
      ...options(model, path.join(root, 'leaks'), config),
      valIndices: new Int32Array(0),
      onStep: (p) => {
        counts.push(tf.memory().numTensors);
        expect(p.totalSteps).toBe(50);
      },
    });
    expect(counts.length).toBe(50);
    // After step 1 the optimizer slots exist; from then on the count must not move.
    expect(new Set(counts.slice(1)).size).toBe(1);
    model.dispose();
  }, 120_000);
});

async function epochAccuracies(outDir: string): Promise<number[]> {
  const lines = (await fs.readFile(path.join(outDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  return lines.filter((l) => l.type === 'epoch').map((l) => l.val_accuracy as number);
}
