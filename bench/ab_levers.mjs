// A/B of issue 12's levers in one process: each configuration's training step (forward + loss + backward
// at micro `micro`, + AdamW), interleaved rounds, median ms. Levers off = per-parameter AdamW and the
// native GELU-with-Φ / BiasAdd kernels unregistered (the paths used before).
import { initBackend, tf } from '@vitlens/core';
import { AdamW, LocalGradientEngine } from '@vitlens/train-loop';
import { ViTForImageClassification, createConfig } from '@vitlens/vit-model';
const [batch = 128, micro = 128, rounds = 6] = process.argv.slice(2).map(Number);
const choice = await initBackend({ prefer: 'tensorflow', fastKernels: true });
if (choice.name !== 'tensorflow') throw new Error('not tensorflow');
const saved = new Map(['VitlensNativeGeluWithCdf', 'VitlensNativeGeluGradFromCdf', 'VitlensNativeBiasAdd'].map((k) => [k, tf.getKernel(k, 'tensorflow')]));
const setNative = (on) => {
  for (const [k, cfg] of saved) {
    const has = tf.getKernel(k, 'tensorflow') !== undefined;
    if (on && !has) tf.registerKernel(cfg);
    if (!on && has) tf.unregisterKernel(k, 'tensorflow');
  }
};
const config = createConfig('vit-mini-patch4-32');
const model = ViTForImageClassification.create(config, { seed: 0 });
const s = config.image_size;
const images = Float32Array.from({ length: batch * s * s * 3 }, (_, i) => Math.sin(i));
const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
const engine = new LocalGradientEngine(model, { microBatchSize: micro });
const opts = { decay: model.decayParamNames(), weightDecay: 0.05 };
const optFlat = new AdamW(model.params, { ...opts, flat: true });
const optPer = new AdamW(model.params, { ...opts, flat: false });
const configs = {
  before: { native: false, opt: optPer },
  'flat AdamW': { native: false, opt: optFlat },
  'all three': { native: true, opt: optFlat },
};
const times = Object.fromEntries(Object.keys(configs).map((k) => [k, { step: [], opt: [] }]));
const step = async (c) => {
  setNative(c.native);
  const t0 = performance.now();
  const { grads } = await engine.computeGradients({ images, shape: [batch, s, s, 3], labels }, { training: true, labelSmoothing: 0, seed: 0 });
  const t1 = performance.now();
  c.opt.applyGradients(grads, 1e-7);
  await [...model.params.values()].at(-1).data();
  const t2 = performance.now();
  for (const g of grads.values()) g.dispose();
  return [t2 - t0, t2 - t1];
};
for (const c of Object.values(configs)) { await step(c); await step(c); }
const n0 = tf.memory().numTensors;
for (let r = 0; r < rounds; r++) {
  for (const [k, c] of Object.entries(configs)) {
    const [a, b] = await step(c);
    times[k].step.push(a);
    times[k].opt.push(b);
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`batch ${batch}, micro ${micro}, ${rounds} interleaved rounds; numTensors ${n0} → ${tf.memory().numTensors}`);
for (const [k, t] of Object.entries(times)) console.log(`${k}: step ${med(t.step).toFixed(1)} ms (${(batch / med(t.step) * 1000).toFixed(1)} img/s; min ${Math.min(...t.step).toFixed(1)}), AdamW ${med(t.opt).toFixed(1)} ms`);
