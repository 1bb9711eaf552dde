// Training-step throughput of the built packages on wasm, with the fused kernels or (--composite)
// with LayerNorm/GELU as composite ops and the copying Identity, to compare the two in one session.
// Needs `pnpm build` first. Usage:
//   node packages/train-loop/scripts/bench-step.mjs [--composite] [preset=vit-tiny-patch4-32] [batch=128] [micro=32]
import { initBackend, unregisterFusedWasmKernels } from '@vitlens/core';
import { AdamW, LocalGradientEngine } from '@vitlens/train-loop';
import { ViTForImageClassification, createConfig } from '@vitlens/vit-model';

const args = process.argv.slice(2);
const composite = args.includes('--composite');
const [preset = 'vit-tiny-patch4-32', batchArg = '128', microArg = '32'] = args.filter((a) => a !== '--composite');
const batch = Number(batchArg);
await initBackend({ prefer: 'wasm' });
if (composite) unregisterFusedWasmKernels();
const config = createConfig(preset);
const size = config.image_size;
const model = ViTForImageClassification.create(config, { seed: 0 });
const images = Float32Array.from({ length: batch * size * size * 3 }, (_, i) => Math.sin(i * 0.37));
const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
const engine = new LocalGradientEngine(model, { microBatchSize: Number(microArg) });
const optimizer = new AdamW(model.params, { decay: model.decayParamNames() });
const step = async () => {
  const { grads } = await engine.computeGradients({ images, shape: [batch, size, size, 3], labels }, { training: true, labelSmoothing: 0, seed: 0 });
  optimizer.applyGradients(grads, 1e-4);
  for (const g of grads.values()) g.dispose();
};
await step(); // warm-up
const seconds = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  await step();
  seconds.push((performance.now() - t0) / 1000);
}
const median = [...seconds].sort((a, b) => a - b)[2];
console.log(JSON.stringify({ preset, batch, kernels: composite ? 'composite' : 'fused', secondsPerStep: seconds.map((s) => +s.toFixed(3)), medianImagesPerSecond: +(batch / median).toFixed(2) }));
optimizer.dispose();
await engine.dispose?.();
model.dispose();
