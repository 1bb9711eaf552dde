// The validation split's first batch at the dataset's own size, normalised with CIFAR-10's
// statistics (CommonJS). Usage: node examples/first-batch.cjs [image-folder-root]
const { CIFAR10_MEAN, CIFAR10_STD, initBackend } = require('@vitlens/core');
const { batchIterator, stratifiedSplit } = require('@vitlens/cifar10-data');
const { loadDataset } = require('@vitlens/cifar10-data/node');

async function main() {
  const root = process.argv[2] ?? '../shared/data/cifar10-jpeg';
  await initBackend({ prefer: 'wasm' });
  const ds = await loadDataset(root, { split: 'train', progress: false });
  const { val } = stratifiedSplit(ds.labels, ds.classNames.length, { valPerClass: 1, seed: 'val' });
  const it = batchIterator(ds, val, { batchSize: 8, preprocess: { rescaleFactor: 1 / 255, mean: CIFAR10_MEAN, std: CIFAR10_STD } });
  const { images, labels } = (await it.next()).value;
  console.log(`${it.length} batch(es); images [${images.shape}] ${images.dtype}`); // 2 batch(es); images [8,32,32,3] float32
  console.log(Array.from(labels, (label) => ds.classNames[label]).join(' ')); // airplane automobile bird cat deer dog frog horse
  images.dispose();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
