// Classify one image with a checkpoint folder: top-5 classes, then the attention rollout's grid.
// Usage: node examples/classify.mjs <checkpoint-folder> <image.jpg>
import { readFile } from 'node:fs/promises';
import { decodeImage, initBackend } from '@vitlens/core';
import { load } from '@vitlens/vit-model';

const [checkpoint, imagePath] = process.argv.slice(2);
if (!checkpoint || !imagePath) {
  console.error('usage: node examples/classify.mjs <checkpoint-folder> <image.jpg>');
  process.exit(2);
}

const backend = await initBackend();
const vit = await load(checkpoint);
const image = decodeImage(await readFile(imagePath), imagePath);
console.log(`${imagePath} (${image.width}×${image.height}), ${backend.name} backend:`);
for (const { label, probability } of await vit.classify(image, { topk: 5 })) {
  console.log(`  ${label.padEnd(12)} ${(probability * 100).toFixed(1).padStart(5)}%`);
}
const { rollout } = await vit.explain(image);
console.log(`rollout: ${rollout.height}×${rollout.width} patches`);
vit.dispose();
