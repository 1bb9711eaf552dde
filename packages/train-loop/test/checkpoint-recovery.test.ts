import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '@vitlens/core';
import { stratifiedSplit } from '@vitlens/cifar10-data';
import { ViTForImageClassification, processorToPreprocessOptions } from '@vitlens/vit-model';
import { loadCheckpoint } from '@vitlens/vit-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type TrainConfig,
  type TrainOptions,
  checkTrainingCheckpoint,
  findResumeCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  readTrainerState,
  recoverCheckpoints,
  resolveTrainConfig,
  train,
  truncateMetrics,
} from '../src/index';
import { syntheticDataset, tinyConfig } from './helpers';

// 36 images in 3 classes: 30 to train on (4 steps of 8 an epoch), 6 to validate
const dataset = syntheticDataset(12, 2);
const split = stratifiedSplit(dataset.labels, 3, { valPerClass: 2, seed: 1 });
const RUN = { model: 'tiny', imageSize: 8, epochs: 1, batchSize: 8, microBatchSize: 8, valPerClass: 2, evalBatchSize: 16, keep: 0, seed: 11, augment: 'none' };
const runConfig = (overrides: Partial<TrainConfig> = {}): TrainConfig => resolveTrainConfig('cifar-scratch', { ...RUN, ...overrides });
let root: string;

function options(model: ViTForImageClassification, outDir: string, config: TrainConfig): TrainOptions {
  return { model, dataset, trainIndices: split.train, valIndices: split.val, config, outDir, preprocess: processorToPreprocessOptions(model.processor) };
}

async function trainFresh(outDir: string, config: TrainConfig): Promise<void> {
  const model = ViTForImageClassification.create(tinyConfig(), { seed: 4 });
  try {
    await train(options(model, outDir, config));
  } finally {
    model.dispose();
  }
}

async function resume(outDir: string, config: TrainConfig): Promise<void> {
  const from = await findResumeCheckpoint(outDir);
  if (!from) throw new Error(`nothing to resume in ${outDir}`);
  const model = await loadCheckpoint(from.dir);
  try {
    await train({ ...options(model, outDir, config), resumeFrom: from.dir });
  } finally {
    model.dispose();
  }
}

/** `last`/`best` as the vitlens before pointer links wrote them: real folders of hard links. */
async function toOldLayout(outDir: string): Promise<void> {
  for (const pointer of ['last', 'best']) {
    const link = path.join(outDir, pointer);
    const target = path.join(outDir, await fs.readlink(link));
    await fs.rm(link);
    await fs.mkdir(link);
    for (const f of await fs.readdir(target)) await fs.link(path.join(target, f), path.join(link, f));
  }
}

const stepOf = async (dir: string) => (await readTrainerState(path.join(dir, 'trainer_state.json'))).step;

beforeAll(async () => {
  [root] = await Promise.all([fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-recovery-')), initBackend({ prefer: 'cpu' })]);
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe('checkpoint folders: pointers, recovery, pruning, metrics', () => {

  it('last and best are links to numbered checkpoints, each switched by one rename', async () => {
    const outDir = path.join(root, 'links');
    await trainFresh(outDir, runConfig({ epochs: 2 }));
    expect(await fs.readlink(path.join(outDir, 'last'))).toBe('epoch-002');
    expect(['epoch-001', 'epoch-002']).toContain(await fs.readlink(path.join(outDir, 'best')));
    expect(await stepOf(path.join(outDir, 'last'))).toBe(8);
    expect((await fs.readdir(outDir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('resumes a run folder written with last/best as copies, and turns them into links on the next save', async () => {
    const outDir = path.join(root, 'old-layout');
    await trainFresh(outDir, runConfig({ epochs: 1 }));
    await toOldLayout(outDir);
    expect((await fs.lstat(path.join(outDir, 'last'))).isDirectory()).toBe(true);
    const found = await findResumeCheckpoint(outDir);
    expect(found).toMatchObject({ dir: path.join(outDir, 'epoch-001'), state: { step: 4 } });
    await resume(outDir, runConfig({ epochs: 2 }));
    expect(await fs.readlink(path.join(outDir, 'last'))).toBe('epoch-002');
    expect(await stepOf(path.join(outDir, 'last'))).toBe(8);
    expect(await stepOf(path.join(outDir, 'best'))).toBeGreaterThan(0);
  });

  it('puts back a last/best copy that an older version set aside when it was killed between two renames', async () => {
    const outDir = path.join(root, 'old-leftover');
    await trainFresh(outDir, runConfig({ epochs: 1, valPerClass: 2 }));
    await toOldLayout(outDir);
    // what the older writer left after `rename(best, .tmp-old-best-…)` and a kill -9
    await fs.rename(path.join(outDir, 'best'), path.join(outDir, '.tmp-old-best-123-0123abcd'));
    await fs.rm(path.join(outDir, 'epoch-001'), { recursive: true }); // pruned long ago
    const repairs = await recoverCheckpoints(outDir);
    expect(repairs.join('\n')).toMatch(/restored .*best from \.tmp-old-best-123-0123abcd/);
    expect(await stepOf(path.join(outDir, 'best'))).toBe(4);
  });

  it('points a missing or dangling last at the newest complete checkpoint, and best at the one its state names', async () => {
    const outDir = path.join(root, 'dangling');
    await trainFresh(outDir, runConfig({ epochs: 2 }));
    const bestStep = (await readTrainerState(path.join(outDir, 'epoch-002', 'trainer_state.json'))).best.step;
    await fs.rm(path.join(outDir, 'last'));
    await fs.rm(path.join(outDir, 'best'));
    await fs.symlink('epoch-009', path.join(outDir, 'best'));
    await recoverCheckpoints(outDir);
    expect(await fs.readlink(path.join(outDir, 'last'))).toBe('epoch-002');
    expect(await stepOf(path.join(outDir, 'best'))).toBe(bestStep);
  });

  it('counts a checkpoint complete only when every file is present and readable', async () => {
    const outDir = path.join(root, 'complete');
    await trainFresh(outDir, runConfig({ epochs: 2 }));
    expect((await listCheckpoints(outDir)).map((c) => path.basename(c.dir))).toEqual(['epoch-001', 'epoch-002']);
    const first = path.join(outDir, 'epoch-001');
    await fs.rm(path.join(first, 'config.json')); // what a kill in the middle of the old pruning left
    await expect(checkTrainingCheckpoint(first)).rejects.toThrow(/epoch-001\/config.json/);
    const weights = path.join(outDir, 'epoch-002', 'model.safetensors');
    const bytes = await fs.readFile(weights);
    await fs.writeFile(weights, bytes.subarray(0, bytes.length - 100)); // truncated
    await expect(checkTrainingCheckpoint(path.join(outDir, 'epoch-002'))).rejects.toThrow(/model.safetensors: .*data section/);
    expect(await listCheckpoints(outDir)).toEqual([]);
  });

  it('prunes by renaming aside first and never removes what last or best names', async () => {
    const outDir = path.join(root, 'prune');
    await trainFresh(outDir, runConfig({ epochs: 4 }));
    // best at epoch 1: the oldest, which keep 1 would remove
    await fs.rm(path.join(outDir, 'best'));
    await fs.symlink('epoch-001', path.join(outDir, 'best'));
    const removed = await pruneCheckpoints(outDir, 1);
    expect(removed.map((d) => path.basename(d))).toEqual(['epoch-002', 'epoch-003']);
    expect((await fs.readdir(outDir)).sort()).toEqual(['best', 'epoch-001', 'epoch-004', 'last', 'metrics.jsonl']);
  });

  it('metrics.jsonl holds each step once after a crash and resume', async () => {
    const outDir = path.join(root, 'metrics');
    await trainFresh(outDir, runConfig({ epochs: 1 }));
    const file = path.join(outDir, 'metrics.jsonl');
    // steps 5 and 6 logged, then a kill -9 before the next checkpoint; the last line torn
    const extra = [5, 6].map((step) => JSON.stringify({ type: 'step', step, epoch: 2, loss: 1, lr: 1, images_per_s: 1, grad_norm: null, time: '' }));
    await fs.appendFile(file, `${extra.join('\n')}\n{"type":"st`);
    await resume(outDir, runConfig({ epochs: 2 }));
    const lines = (await fs.readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; step: number });
    const steps = lines.filter((l) => l.type === 'step').map((l) => l.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(lines.filter((l) => l.type === 'epoch').map((l) => l.step)).toEqual([4, 8]);
  });

  it('truncateMetrics keeps the lines up to the step and drops a torn one', async () => {
    const file = path.join(root, 'm.jsonl');
    await fs.writeFile(file, '{"type":"step","step":1}\n{"type":"step","step":2}\n{"type":"epoch","step":2}\n{"type":"step","step":3}\n{"ty');
    await truncateMetrics(file, 2);
    expect(await fs.readFile(file, 'utf8')).toBe('{"type":"step","step":1}\n{"type":"step","step":2}\n{"type":"epoch","step":2}\n');
  });
});
