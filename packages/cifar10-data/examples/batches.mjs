// Load an image folder, hold out a validation split, and stream shuffled, augmented, CutMix-ed
// batches at ViT-B's 224×224 input. Usage: node examples/batches.mjs [image-folder-root]
// (<root>/train/<class>/*.jpg; the first run over the shared 50,000 images decodes them into the cache)
import { HF_VIT_MEAN, HF_VIT_STD, Rng, initBackend, tf } from '@vitlens/core';
import { batchIterator, stratifiedSplit } from '@vitlens/cifar10-data';
import { loadDataset } from '@vitlens/cifar10-data/node';

const root = process.argv[2] ?? '../shared/data/cifar10-jpeg';
await initBackend({ prefer: 'wasm' });
const ds = await loadDataset(root, { split: 'train' });
console.log(`${ds.source}: ${ds.count} images of ${ds.height}×${ds.width}, classes ${ds.classNames.join(', ')}`);
// ../shared/data/cifar10-jpeg/train: 50000 images of 32×32, classes airplane, automobile, bird, …, truck

// Hold out a tenth of the smallest class from every class (500 per class on CIFAR-10).
const perClass = ds.classNames.map((_, c) => ds.labels.filter((label) => label === c).length);
const valPerClass = Math.max(1, Math.floor(Math.min(...perClass) / 10));
const { train, val } = stratifiedSplit(ds.labels, ds.classNames.length, { valPerClass, seed: 'val' });
console.log(`train ${train.length}, val ${val.length} (${valPerClass} per class)`); // train 45000, val 5000 (500 per class)

const rng = new Rng(42);
const options = {
  batchSize: 64, shuffle: true, rng, augment: 'basic', cutmix: 1,
  preprocess: { resize: { height: 224, width: 224 }, rescaleFactor: 1 / 255, mean: HF_VIT_MEAN, std: HF_VIT_STD },
};
const before = tf.memory().numTensors;
for (let epoch = 1; epoch <= 2; epoch++) {
  const state = rng.getState(); // restoring it replays this epoch's batches exactly
  const batches = batchIterator(ds, train, options);
  let seen = 0;
  for await (const batch of batches) {
    // batch.images: [64, 224, 224, 3] float32; batch.targets: 64 × 10 soft targets (CutMix)
    const { shape, dtype } = batch.images;
    console.log(`epoch ${epoch}, batch ${++seen}/${batches.length}: images [${shape}] ${dtype}, targets ${batch.targets.length}, first rows ${batch.indices.slice(0, 3)}`);
    // epoch 1, batch 1/704: images [64,224,224,3] float32, targets 640, first rows 9896,1724,17871
    batch.images.dispose();
    if (seen === 2) break; // a real loop trains on every batch
  }
  const replay = batchIterator(ds, train, { ...options, rng: Rng.fromState(state) });
  const again = (await replay.next()).value;
  console.log(`epoch ${epoch} replayed from its RNG state: first rows ${again.indices.slice(0, 3)}`); // 9896,1724,17871 in epoch 1
  again.images.dispose();
  await replay.return();
}
console.log(`tensors left: ${tf.memory().numTensors - before}`); // tensors left: 0
