// Train a tiny ViT for a few steps with checkpoints in a temporary folder, then evaluate it.
// Usage: node examples/train.mjs [image-folder-root]   (<root>/train/<class>/*.jpg; without one,
// a toy set of dark and light images built in memory)
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Rng, initBackend } from '@vitlens/core';
import { stratifiedSplit } from '@vitlens/cifar10-data';
import { loadDataset } from '@vitlens/cifar10-data/node';
import { evaluateModel, resolveTrainConfig, train } from '@vitlens/train-loop';
import { ViTForImageClassification, createConfig, processorToPreprocessOptions } from '@vitlens/vit-model';

/** An ImageDataset in memory: `count` noisy 32×32 images, every other one light. */
function toyDataset(count = 64) {
  const rng = new Rng('toy');
  const labels = new Uint8Array(count).map((_, i) => i % 2);
  const images = new Uint8Array(count * 32 * 32 * 3).map((_, p) => (labels[Math.floor(p / 3072)] ? 150 : 40) + rng.int(64)); // [count, 32, 32, 3] HWC
  return { images, labels, classNames: ['dark', 'light'], count, height: 32, width: 32, source: 'toy' };
}

const root = process.argv[2];
const backend = await initBackend({ prefer: 'wasm' }); // also registers the gradients training needs
const dataset = root ? await loadDataset(root, { split: 'train', progress: false }) : toyDataset();
// Hold out a quarter of the smallest class (at most 50) from every class for validation.
const perClass = dataset.classNames.map((_, c) => dataset.labels.filter((label) => label === c).length);
const valPerClass = Math.min(50, Math.max(1, Math.floor(Math.min(...perClass) / 4)));
const split = stratifiedSplit(dataset.labels, dataset.classNames.length, { valPerClass, seed: 42 });

// vit-mini's shape, shrunk: 1 layer, hidden 32, 8×8 patches (16 tokens + CLS); the dataset's classes.
const config = createConfig('vit-mini-patch4-32', {
  hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, patch_size: 8,
  id2label: Object.fromEntries(dataset.classNames.map((name, i) => [String(i), name])),
});
const model = ViTForImageClassification.create(config, { seed: 42 });
const preprocess = processorToPreprocessOptions(model.processor); // resize 32, 1/255, mean/std 0.5

const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-train-'));
const run = resolveTrainConfig('cifar-scratch', {
  model: 'custom', epochs: 2, batchSize: 16, maxSteps: 6, valPerClass, keep: 1, augment: 'none', labelSmoothing: 0,
  optimizer: { lr: 2e-3 },
});
const result = await train({
  model, dataset, trainIndices: split.train, valIndices: split.val, config: run, outDir, preprocess,
  onStep: (p) => console.log(`step ${p.step}/${p.totalSteps} (epoch ${p.epoch}): loss ${p.loss.toFixed(4)}, lr ${p.lr.toExponential(2)}`),
});
// step 1/6 (epoch 1): loss 0.6965, lr 2.00e-3 … step 6/6 (epoch 2): loss 0.3205, lr 1.43e-4 (toy set, wasm: seconds)
console.log(`${result.status} after ${result.step} steps on ${backend.name}; best ${JSON.stringify(result.best)}`);
console.log(`${outDir}: ${(await fs.readdir(outDir)).sort().join(', ')}`); // best, epoch-001, epoch-002, last, metrics.jsonl

const metrics = await evaluateModel(model, dataset, split.val, { preprocess });
console.log(`validation: ${metrics.count} images, accuracy ${(100 * metrics.accuracy).toFixed(1)}%, mean loss ${metrics.meanLoss.toFixed(4)}`);
for (const c of metrics.perClass) console.log(`  ${c.name.padEnd(10)} ${c.correct}/${c.total}`);
model.dispose();
await fs.rm(outDir, { recursive: true, force: true });
