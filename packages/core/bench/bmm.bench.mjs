// Stock vs fast wasm BatchMatMul at the attention shapes, and ViT forward images/s with fast
// kernels off/on, alternating in one process (the machine is shared: compare within a run).
// Run after `pnpm --filter @vitlens/core build` and `pnpm --filter @vitlens/vit-model build`:
//   node packages/core/bench/bmm.bench.mjs            (REPEAT=5 timed runs per figure; medians)
import { initBackend, registerFastWasmKernels, tf, unregisterFastWasmKernels } from '../dist/index.js';
import { ViTForImageClassification, createConfig } from '../../vit-model/dist/index.js';

const REPEAT = Number(process.env.REPEAT ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const setFast = (on) => (on ? registerFastWasmKernels() : unregisterFastWasmKernels());

await initBackend({ prefer: 'wasm' });
console.log(`tfjs ${tf.version_core}, backend ${tf.getBackend()}, node ${process.version}, REPEAT=${REPEAT}`);

/** [G, M, K]×[G, K, N] (logical), stored per the transpose flags. */
const CASES = [
  { name: 'QKᵀ  d=32', G: 256, M: 65, K: 32, N: 65, tA: false, tB: true },
  { name: 'AV   d=32', G: 256, M: 65, K: 65, N: 32, tA: false, tB: false },
  { name: 'QKᵀ  d=48', G: 192, M: 65, K: 48, N: 65, tA: false, tB: true },
  { name: 'AV   d=48', G: 192, M: 65, K: 65, N: 48, tA: false, tB: false },
  { name: 'dV=AᵀdO d=32', G: 256, M: 65, K: 65, N: 32, tA: true, tB: false },
  { name: 'dA=dO·Vᵀ d=32', G: 256, M: 65, K: 32, N: 65, tA: false, tB: true },
  { name: 'QK plain d=32', G: 256, M: 65, K: 32, N: 65, tA: false, tB: false },
  { name: 'ViT-B QKᵀ', G: 48, M: 197, K: 64, N: 197, tA: false, tB: true },
  { name: 'ViT-B AV', G: 48, M: 197, K: 197, N: 64, tA: false, tB: false },
];

console.log('\nBatchMatMul GFLOP/s (median of', REPEAT, ')');
console.log('case                   shape                      stock     fast   speed-up');
for (const c of CASES) {
  const a = tf.randomNormal(c.tA ? [c.G, c.K, c.M] : [c.G, c.M, c.K]);
  const b = tf.randomNormal(c.tB ? [c.G, c.N, c.K] : [c.G, c.K, c.N]);
  const flops = 2 * c.G * c.M * c.K * c.N;
  const ms = { false: [], true: [] };
  for (const fast of [false, true]) {
    setFast(fast);
    tf.matMul(a, b, c.tA, c.tB).dispose(); // warm-up
  }
  // Each sample repeats the product until it lasts ≥ 200 ms, so one preemption on the busy
  // machine does not decide a sample of a few milliseconds.
  const inner = { false: 1, true: 1 };
  for (const fast of [false, true]) {
    setFast(fast);
    const t0 = performance.now();
    tf.matMul(a, b, c.tA, c.tB).dispose();
    inner[fast] = Math.max(1, Math.ceil(200 / (performance.now() - t0)));
  }
  for (let r = 0; r < REPEAT; r++) {
    for (const fast of [false, true]) {
      setFast(fast);
      const t0 = performance.now();
      for (let i = 0; i < inner[fast]; i++) tf.matMul(a, b, c.tA, c.tB).dispose();
      ms[fast].push((performance.now() - t0) / inner[fast]);
    }
  }
  const gf = (list) => flops / median(list) / 1e6;
  const shape = `[${c.G},${c.M},${c.K}]×[${c.G},${c.K},${c.N}]${c.tA ? ' tA' : ''}${c.tB ? ' tB' : ''}`;
  console.log(
    `${c.name.padEnd(22)} ${shape.padEnd(26)} ${gf(ms.false).toFixed(2).padStart(6)}  ${gf(ms.true).toFixed(2).padStart(7)}  ${(gf(ms.true) / gf(ms.false)).toFixed(1).padStart(6)}×`,
  );
  a.dispose();
  b.dispose();
}

// ViT forward, vit-mini-patch4-32 (hidden 128, 6 layers, 4 heads → G = 64·4 = 256, T = 65, d = 32).
const BATCH = Number(process.env.BATCH ?? 64);
const model = ViTForImageClassification.create(createConfig('vit-mini-patch4-32'), { seed: 0 });
const x = tf.randomNormal([BATCH, 32, 32, 3]);
const forward = () => {
  const { logits } = model.forward(x);
  logits.dataSync();
  logits.dispose();
};
const ms = { false: [], true: [] };
for (const fast of [false, true]) {
  setFast(fast);
  forward(); // warm-up
}
for (let r = 0; r < REPEAT; r++) {
  for (const fast of [false, true]) {
    setFast(fast);
    const t0 = performance.now();
    forward();
    ms[fast].push(performance.now() - t0);
  }
}
const ips = (list) => (BATCH * 1000) / median(list);
console.log(`\nViT forward vit-mini-patch4-32, batch ${BATCH}, images/s (median of ${REPEAT}):`);
console.log(`  stock ${ips(ms.false).toFixed(1)}   fast ${ips(ms.true).toFixed(1)}   speed-up ${(ips(ms.true) / ips(ms.false)).toFixed(2)}×`);
x.dispose();
model.dispose();
