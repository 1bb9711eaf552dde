// Forward (inference) throughput of the built model on a backend, median of N timed runs after a
// warm-up. Needs `pnpm --filter @vitlens/vit-model... build` first.
// Usage: node scripts/bench-forward.mjs <preset> <batch> [backend=wasm] [runs=3]
import { initBackend, tf } from '@vitlens/core';
import { ViTForImageClassification, countForwardFlops, createConfig } from '@vitlens/vit-model';

const [preset = 'vit-tiny-patch4-32', batchArg = '64', backend = 'wasm', runsArg = '3'] = process.argv.slice(2);
const batch = Number(batchArg);
const runs = Number(runsArg);
const choice = await initBackend({ prefer: backend });
const config = createConfig(preset);
const model = ViTForImageClassification.create(config, { seed: 0 });
const size = config.image_size;
const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 1);
const once = () => {
  const t0 = performance.now();
  const { logits } = model.forward(x);
  logits.dataSync();
  logits.dispose();
  return (performance.now() - t0) / 1000;
};
once(); // warm-up: kernels, memory
const times = Array.from({ length: runs }, once).sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const flops = countForwardFlops(config, batch);
console.log(JSON.stringify({
  preset, batch, backend: choice.name, runs, secondsPerBatch: times.map((t) => +t.toFixed(3)),
  medianImagesPerSecond: +(batch / median).toFixed(2), gflopPerSecond: +(flops / median / 1e9).toFixed(2),
}));
x.dispose();
model.dispose();
