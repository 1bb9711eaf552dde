// The same in CommonJS, shorter: a few steps on a toy set (dark vs light), then the evaluation
// report that `vitlens evaluate` writes. Usage: node examples/train.cjs
const fs = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { Rng, initBackend } = require('@vitlens/core');
const { stratifiedSplit } = require('@vitlens/cifar10-data');
const { evaluateModel, formatEvaluationReport, resolveTrainConfig, train } = require('@vitlens/train-loop');
const { ViTForImageClassification, createConfig, processorToPreprocessOptions } = require('@vitlens/vit-model');

async function main() {
  const backend = await initBackend({ prefer: 'wasm' });
  const rng = new Rng('toy');
  const labels = new Uint8Array(64).map((_, i) => i % 2);
  const images = new Uint8Array(64 * 3072).map((_, p) => (labels[Math.floor(p / 3072)] ? 150 : 40) + rng.int(64)); // [64, 32, 32, 3]
  const dataset = { images, labels, classNames: ['dark', 'light'], count: 64, height: 32, width: 32, source: 'toy' };
  const split = stratifiedSplit(labels, 2, { valPerClass: 8, seed: 42 });

  const id2label = { 0: 'dark', 1: 'light' };
  const config = createConfig('vit-mini-patch4-32', {
    hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, patch_size: 8, id2label,
  });
  const model = ViTForImageClassification.create(config, { seed: 42 });
  const preprocess = processorToPreprocessOptions(model.processor);
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-train-'));
  const run = resolveTrainConfig('cifar-scratch', {
    model: 'custom', epochs: 1, batchSize: 16, valPerClass: 8, augment: 'none', labelSmoothing: 0, optimizer: { lr: 2e-3 },
  });
  const result = await train({ model, dataset, trainIndices: split.train, valIndices: split.val, config: run, outDir, preprocess });
  console.log(`${result.status}: ${result.step} steps, checkpoint ${path.basename(result.lastCheckpoint)}`); // done: 3 steps, checkpoint epoch-001

  const metrics = await evaluateModel(model, dataset, split.val, { preprocess });
  const heldOut = { from: 'toy', perClass: 8, seed: 42 };
  const report = { ...metrics, split: 'validation', heldOut, data: 'toy', checkpoint: 'epoch-001', backend: backend.name, createdAt: new Date().toISOString() };
  console.log(formatEvaluationReport(report).split('\n').slice(0, 8).join('\n'));
  // Validation Accuracy (held out of 'toy': 8 per class, seed 42): 100.00%, then Split, Images, Data, …
  model.dispose();
  await fs.rm(outDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
