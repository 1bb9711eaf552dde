import { initBackend, tf } from '@vitlens/core';
import { createConfig, ViTForImageClassification } from '@vitlens/vit-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalGradientEngine } from '../src/engine';
import { WorkerGradientEngine } from '../src/parallel';
import type { GradientBatch, GradientResult } from '../src/types';

// A tiny ViT: 16×16 images, 4×4 patches (17 tokens), 2 layers; fast on wasm, same code as the presets.
const config = createConfig('vit-mini-patch4-32', {
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 64,
  image_size: 16,
});

function batchOf(n: number, seed: number, soft = false): GradientBatch {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const images = Float32Array.from({ length: n * 16 * 16 * 3 }, () => next() * 2 - 1);
  const labels = Int32Array.from({ length: n }, () => Math.floor(next() * 10));
  if (!soft) return { images, shape: [n, 16, 16, 3], labels };
  // Row-stochastic soft targets, as mixup produces.
  const targets = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) {
    const a = labels[i] as number;
    const b = (a + 3) % 10;
    targets[i * 10 + a] = 0.7;
    targets[i * 10 + b] = 0.3; // b ≠ a, so the row sums to 1
  }
  return { images, shape: [n, 16, 16, 3], labels, targets };
}

async function maxDifference(a: GradientResult, b: GradientResult): Promise<number> {
  expect([...a.grads.keys()].sort()).toEqual([...b.grads.keys()].sort());
  let worst = Math.abs(a.loss - b.loss);
  for (const [name, g] of a.grads) {
    const x = (await g.data()) as Float32Array;
    const y = (await (b.grads.get(name) as tf.Tensor).data()) as Float32Array;
    expect(g.shape).toEqual((b.grads.get(name) as tf.Tensor).shape);
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
  }
  return worst;
}

function disposeResult(r: GradientResult): void {
  for (const g of r.grads.values()) g.dispose();
}

describe('WorkerGradientEngine', () => {
  let model: ViTForImageClassification;
  let local: LocalGradientEngine;
  let parallel: WorkerGradientEngine;

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    model = ViTForImageClassification.create(config, { seed: 3 });
    local = new LocalGradientEngine(model, { microBatchSize: 4 });
    parallel = await WorkerGradientEngine.create(model, { workers: 2, microBatchSize: 4 });
  });

  afterAll(async () => {
    await parallel?.dispose();
    model?.dispose();
  });

  it('computes the same loss and gradients as LocalGradientEngine on an uneven split (to 1e-5)', async () => {
    expect(parallel.parallelism).toBe(2);
    const batch = batchOf(7, 1); // slices of 4 (main thread) and 3 (worker)
    const opts = { training: true, labelSmoothing: 0, seed: 1 };
    const a = await local.computeGradients(batch, opts);
    const b = await parallel.computeGradients(batch, opts);
    expect(b.loss).toBeGreaterThan(0);
    expect(await maxDifference(a, b)).toBeLessThan(1e-5);
    disposeResult(a);
    disposeResult(b);
  });

  it('matches with soft targets and label smoothing too', async () => {
    const batch = batchOf(6, 2, true);
    const opts = { training: true, labelSmoothing: 0.1, seed: 2 };
    const a = await local.computeGradients(batch, opts);
    const b = await parallel.computeGradients(batch, opts);
    expect(await maxDifference(a, b)).toBeLessThan(1e-5);
    disposeResult(a);
    disposeResult(b);
  });

  it('replicas pick up new weights after weightsUpdated()', async () => {
    const batch = batchOf(6, 4);
    const opts = { training: true, labelSmoothing: 0, seed: 4 };
    const before = await parallel.computeGradients(batch, opts);
    // An optimizer-like change to every weight of the main model.
    for (const v of model.params.values()) tf.tidy(() => v.assign(tf.mul(v, 0.9)));
    await parallel.weightsUpdated();
    const a = await local.computeGradients(batch, opts);
    const b = await parallel.computeGradients(batch, opts);
    expect(await maxDifference(a, b)).toBeLessThan(1e-5);
    // The change mattered: the old gradients differ from the new ones.
    expect(await maxDifference(before, b)).toBeGreaterThan(1e-4);
    for (const r of [before, a, b]) disposeResult(r);
  });

  it('leaves tf.memory().numTensors flat across steps', async () => {
    const batch = batchOf(5, 5);
    const opts = { training: true, labelSmoothing: 0, seed: 5 };
    const run = async () => disposeResult(await parallel.computeGradients(batch, opts));
    await run();
    const baseline = tf.memory().numTensors;
    await run();
    await run();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('uses only worker replicas when mainThread is false, and the result is still the batch mean', async () => {
    const workersOnly = await WorkerGradientEngine.create(model, { workers: 2, mainThread: false, microBatchSize: 4 });
    try {
      expect(workersOnly.parallelism).toBe(2);
      const batch = batchOf(5, 6);
      const opts = { training: true, labelSmoothing: 0, seed: 6 };
      const a = await local.computeGradients(batch, opts);
      const b = await workersOnly.computeGradients(batch, opts);
      expect(await maxDifference(a, b)).toBeLessThan(1e-5);
      disposeResult(a);
      disposeResult(b);
    } finally {
      await workersOnly.dispose();
    }
  });

  it("rejects with the replica's error and stays usable", async () => {
    const bad = batchOf(4, 7);
    bad.labels[3] = 42; // in the worker's slice
    await expect(parallel.computeGradients(bad, { training: true, labelSmoothing: 0, seed: 7 })).rejects.toThrow(/replica 0: .*label 42 is outside 0\.\.9/s);
    const ok = await parallel.computeGradients(batchOf(4, 8), { training: true, labelSmoothing: 0, seed: 8 });
    expect(Number.isFinite(ok.loss)).toBe(true);
    disposeResult(ok);
  });

  it('shuts its workers down on dispose() and refuses work afterwards', async () => {
    const engine = await WorkerGradientEngine.create(model, { workers: 2, microBatchSize: 4 });
    const exited = engine.workerThreadIds().length;
    expect(exited).toBe(1);
    await engine.dispose();
    expect(engine.liveWorkers()).toBe(0);
    await expect(engine.computeGradients(batchOf(2, 9), { training: true, labelSmoothing: 0, seed: 9 })).rejects.toThrow(/used after dispose/);
  });

  it('rejects a bad option with the value it got', () => {
    expect(() => new WorkerGradientEngine(model, { workers: 0 })).toThrow(/workers must be a positive integer, got 0/);
    expect(() => new WorkerGradientEngine(model, { workers: 2, microBatchSize: 1.5 })).toThrow(/microBatchSize must be a positive integer, got 1.5/);
  });
});
