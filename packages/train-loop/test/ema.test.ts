import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initBackend, tf } from '@vitlens/core';
import { stratifiedSplit } from '@vitlens/cifar10-data';
import { ViTForImageClassification, processorToPreprocessOptions } from '@vitlens/vit-model';
import { loadCheckpoint } from '@vitlens/vit-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMA_DIR, type TrainConfig, WeightAverage, readTrainerState, resolveTrainConfig, train } from '../src/index';
import { syntheticDataset, testBackend, tinyConfig } from './helpers';

const dataset = syntheticDataset(10, 3); // 30 images, 3 classes
const split = stratifiedSplit(dataset.labels, 3, { valPerClass: 2, seed: 1 }); // 24 train, 6 val
let root: string;

function values(params: ReadonlyMap<string, tf.Variable>): Map<string, Float32Array> {
  return new Map([...params].map(([k, v]) => [k, v.dataSync() as Float32Array]));
}

describe('WeightAverage', () => {
  beforeAll(async () => {
    await initBackend({ prefer: testBackend('cpu') });
  });

  it('follows shadow ← d·shadow + (1 − d)·w with d = min(decay, (1 + n)/(10 + n))', () => {
    const params = new Map([['w', tf.variable(tf.tensor1d([1, 2]))]]);
    const ema = new WeightAverage(params, 0.9);
    let expected = [1, 2];
    for (let n = 0; n < 30; n++) {
      params.get('w')!.assign(tf.tensor1d([n, -n]));
      const d = Math.min(0.9, (1 + n) / (10 + n));
      expect(ema.currentDecay()).toBeCloseTo(d, 12);
      ema.update(params);
      expected = expected.map((a, i) => d * a + (1 - d) * [n, -n][i]!);
    }
    const got = ema.shadow.get('w')!.dataSync();
    for (const [i, v] of expected.entries()) expect(got[i]).toBeCloseTo(v, 4);
    expect(ema.updates).toBe(30);
    ema.dispose();
    tf.dispose([...params.values()]);
  });

  it('lends the averaged weights to a callback and puts the raw ones back, even when it throws, without leaking', async () => {
    const params = new Map([['w', tf.variable(tf.tensor1d([4, 4]))]]);
    const ema = new WeightAverage(params, 0.5);
    params.get('w')!.assign(tf.tensor1d([0, 8]));
    const before = tf.memory().numTensors;
    const seen = await ema.withAveragedWeights(params, async () => Array.from(params.get('w')!.dataSync()));
    expect(seen).toEqual([4, 4]);
    expect(Array.from(params.get('w')!.dataSync())).toEqual([0, 8]);
    await expect(ema.withAveragedWeights(params, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(Array.from(params.get('w')!.dataSync())).toEqual([0, 8]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new WeightAverage(params, 1)).toThrow('WeightAverage: decay must be in (0, 1), got 1');
    ema.dispose();
    tf.dispose([...params.values()]);
  });
});

describe('train with an average of the weights (config.ema)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: testBackend('cpu') });
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-ema-'));
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  const config = (): TrainConfig =>
    resolveTrainConfig('cifar-default', { model: 'tiny', imageSize: 8, epochs: 2, batchSize: 8, microBatchSize: 4, valPerClass: 2, evalBatchSize: 16, keep: 0, seed: 3, ema: 0.9 });
  const run = (model: ViTForImageClassification, outDir: string, extra: object = {}) =>
    train({
      model,
      dataset,
      trainIndices: split.train,
      valIndices: split.val,
      config: config(),
      outDir,
      preprocess: processorToPreprocessOptions(model.processor),
      ...extra,
    });
  const newModel = () => ViTForImageClassification.create(tinyConfig(), { seed: 8 });

  it('saves the average in each checkpoint, validates it each epoch, and a resumed run ends with the same average', async () => {
    const straight = newModel();
    await run(straight, path.join(root, 'straight'));
    const last = path.join(root, 'straight', 'last');
    const state = await readTrainerState(path.join(last, 'trainer_state.json'));
    expect(state.ema?.updates).toBe(6); // 2 epochs × 3 steps
    expect(state.ema?.lastEval?.epoch).toBe(2);
    const lines = (await fs.readFile(path.join(root, 'straight', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const epochs = lines.filter((l) => l.type === 'epoch');
    expect(epochs.map((e) => typeof e.val_accuracy_ema)).toEqual(['number', 'number']);
    const averaged = await loadCheckpoint(path.join(last, EMA_DIR));
    const raw = await loadCheckpoint(last);
    // the average is a different set of weights than the raw ones, of the same layout
    expect([...averaged.params.keys()]).toEqual([...raw.params.keys()]);
    const a = averaged.params.get('classifier.weight')!.dataSync();
    const r = raw.params.get('classifier.weight')!.dataSync();
    expect(a.some((v, i) => v !== r[i])).toBe(true);

    const resumedModel = newModel();
    const controller = new AbortController();
    await run(resumedModel, path.join(root, 'resumed'), { signal: controller.signal, onEpoch: () => controller.abort() });
    const again = await loadCheckpoint(path.join(root, 'resumed', 'last'));
    await run(again, path.join(root, 'resumed'), { resumeFrom: path.join(root, 'resumed', 'last') });
    const resumedAverage = await loadCheckpoint(path.join(root, 'resumed', 'last', EMA_DIR));
    const want = values(averaged.params);
    for (const [name, got] of values(resumedAverage.params)) expect(Array.from(got), name).toEqual(Array.from(want.get(name)!));
    for (const m of [straight, averaged, raw, resumedModel, again, resumedAverage]) m.dispose();
  });

  it('best names the checkpoint with the best model, raw or averaged, and keep never prunes it', async () => {
    const outDir = path.join(root, 'best');
    const model = newModel();
    await run(model, outDir, { config: { ...config(), epochs: 4, keep: 1, seed: 4, ema: 0.6, optimizer: { ...config().optimizer, lr: 3e-3 } } });
    const lines = (await fs.readFile(path.join(outDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const scores = lines
      .filter((l) => l.type === 'epoch')
      .map((e) => ({ epoch: e.epoch, raw: e.val_accuracy as number, ema: e.val_accuracy_ema as number }));
    const top = Math.max(...scores.map((e) => Math.max(e.raw, e.ema)));
    const first = scores.find((e) => Math.max(e.raw, e.ema) === top)!;
    const state = await readTrainerState(path.join(outDir, 'best', 'trainer_state.json'));
    expect(state.best).toMatchObject({ value: top, epoch: first.epoch, metric: first.ema > first.raw ? 'val_accuracy_ema' : 'val_accuracy' });
    expect(state.epoch).toBe(first.epoch);
    // In this run the best model is first reached by an average (epoch 2: 5 of 6 right, its raw
    // weights 4 of 6); ranking by the raw weights alone named a later epoch and pruned this one.
    expect(state.best.metric).toBe('val_accuracy_ema');
    expect(first.ema).toBeGreaterThan(first.raw);
    expect(await fs.readdir(outDir)).toContain(`epoch-00${first.epoch}`);
    model.dispose();
  });
});
