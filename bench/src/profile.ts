// `pnpm --filter @vitlens/bench run profile [preset] [batch]`: which kernels dominate one training
// step (forward + loss + backward) and one forward pass on the active backend (default wasm).
// Kernel times come from tf.profile; shares are more robust than absolute times on a busy machine.
import { initBackend, tf } from '@vitlens/core';
import { LocalGradientEngine } from '@vitlens/train-loop';
import { ViTForImageClassification, createConfig } from '@vitlens/vit-model';

interface Row {
  kernel: string;
  ms: number;
  calls: number;
}

async function profile(label: string, fn: () => Promise<void>): Promise<void> {
  await fn(); // warm-up: XNNPACK operator caches, wasm heap growth
  const t0 = performance.now();
  const info = await tf.profile(fn);
  const wall = performance.now() - t0;
  const rows = new Map<string, Row>();
  for (const k of info.kernels) {
    // Batched matMuls (the attention) take a different kernel path on wasm than plain 2-D ones.
    const rank = k.inputShapes[0]?.length ?? 0;
    const name = k.name === 'BatchMatMul' || k.name === '_FusedMatMul' ? `${k.name} ${rank === 2 ? '2-D' : `${rank}-D`}` : k.name;
    const r = rows.get(name) ?? { kernel: name, ms: 0, calls: 0 };
    r.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    r.calls++;
    rows.set(name, r);
  }
  const sorted = [...rows.values()].sort((a, b) => b.ms - a.ms);
  const total = sorted.reduce((s, r) => s + r.ms, 0);
  console.log(`\n## ${label}: ${total.toFixed(0)} ms in kernels, ${wall.toFixed(0)} ms wall (profiling adds overhead)\n`);
  console.log('| kernel | ms | share | calls |\n| --- | --- | --- | --- |');
  for (const r of sorted.slice(0, 15)) console.log(`| ${r.kernel} | ${r.ms.toFixed(0)} | ${((100 * r.ms) / total).toFixed(1)}% | ${r.calls} |`);
}

const preset = process.argv[2] ?? 'vit-tiny-patch4-32';
const batch = Number(process.argv[3] ?? 16);
const choice = await initBackend({ prefer: (process.env.VITLENS_BACKEND as 'wasm' | undefined) ?? 'wasm' });
console.log(`profile ${preset}, batch ${batch}, backend ${choice.name}`);
const config = createConfig(preset);
const model = ViTForImageClassification.create(config, { seed: 0 });
const size = config.image_size;
const images = Float32Array.from({ length: batch * size * size * 3 }, (_, i) => Math.sin(i));
const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
const engine = new LocalGradientEngine(model, { microBatchSize: batch });
await profile(`training step (forward + loss + backward), batch ${batch}`, async () => {
  const { grads } = await engine.computeGradients({ images, shape: [batch, size, size, 3], labels }, { training: true, labelSmoothing: 0, seed: 0 });
  for (const g of grads.values()) g.dispose();
});
const x = tf.tensor4d(images, [batch, size, size, 3]);
await profile(`forward, batch ${batch}`, async () => {
  const { logits } = model.forward(x);
  await logits.data();
  logits.dispose();
});
x.dispose();
model.dispose();
